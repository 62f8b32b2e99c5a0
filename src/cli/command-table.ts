/**
 * The command table, built at every start: 43 commands with some 300 options, of which one command is parsed.
 * A command registers its options and help text when it is parsed or its help is shown, not when the table is
 * built: `palisade --help` lists names, arguments and descriptions, which are registered at once. The
 * register-*.ts files write commands as commander's usual chains; `defineAll` registers everything (for the
 * reference pages and shell completions).
 */
import { Command, Help, type Option } from 'commander';

export class LazyCommand extends Command {
  #deferred: Array<() => void> = [];
  #defined = false;
  #deferredOptions = false;

  override createCommand(name?: string): LazyCommand {
    return new LazyCommand(name);
  }

  override createHelp(): Help {
    return Object.assign(new TableHelp(), this.configureHelp());
  }

  /** Whether options wait to be registered (the command list says `[options]` for them). */
  get optionsDeferred(): boolean {
    return !this.#defined && this.#deferredOptions;
  }

  #defer(register: () => void, isOption: boolean): this {
    if (this.#defined) {
      register();
      return this;
    }
    this.#deferred.push(register);
    this.#deferredOptions ||= isOption;
    return this;
  }

  override option(...args: unknown[]): this {
    return this.#defer(() => Command.prototype.option.apply(this, args as never), true);
  }

  override requiredOption(...args: unknown[]): this {
    return this.#defer(() => Command.prototype.requiredOption.apply(this, args as never), true);
  }

  override addOption(option: Option): this {
    return this.#defer(() => Command.prototype.addOption.call(this, option), true);
  }

  override addHelpText(...args: unknown[]): this {
    return this.#defer(() => Command.prototype.addHelpText.apply(this, args as never), false);
  }

  /** Registers what waited, in the order it was given. */
  define(): this {
    if (this.#defined) return this;
    this.#defined = true;
    for (const register of this.#deferred.splice(0)) register();
    return this;
  }

  override parseOptions(argv: string[]): ReturnType<Command['parseOptions']> {
    this.define();
    return super.parseOptions(argv);
  }

  override helpInformation(context?: { error: boolean }): string {
    this.define();
    return super.helpInformation(context);
  }

  override outputHelp(...args: unknown[]): void {
    this.define();
    Command.prototype.outputHelp.apply(this, args as never);
  }
}

/** Shows `[options]` for a command whose options are not registered yet, as commander does for registered ones. */
class TableHelp extends Help {
  override subcommandTerm(cmd: Command): string {
    const term = super.subcommandTerm(cmd);
    if (!(cmd instanceof LazyCommand) || !cmd.optionsDeferred) return term;
    const name = cmd.name() + (cmd.aliases()[0] === undefined ? '' : `|${cmd.aliases()[0]}`);
    return `${name} [options]${term.slice(name.length)}`;
  }
}

/** Registers every command's options and help text, subcommands included. */
export function defineAll(command: Command): Command {
  if (command instanceof LazyCommand) command.define();
  for (const sub of command.commands) defineAll(sub);
  return command;
}
