/**
 * The command reference, read from the commander program itself, so it cannot fall behind the CLI:
 * docs/commands.md and man/palisade.1 (written by `npm run docs`, kept current by test/cli/reference.test.ts)
 * and the bash and zsh completions (`palisade completion bash|zsh`).
 */
import type { Command, Option } from 'commander';
import { defineAll } from './command-table.ts';
import { EXIT } from '../exit-codes.ts';

export interface OptionDoc {
  flags: string;
  long: string | null;
  short: string | null;
  description: string;
  takesValue: boolean;
  choices: string[] | null;
  default: string | null;
}

export interface CommandDoc {
  /** `fleet init-auth`. */
  path: string;
  usage: string;
  description: string;
  arguments: Array<{ name: string; description: string }>;
  options: OptionDoc[];
}

const visible = (o: Option): boolean => !o.hidden;

function optionDoc(o: Option): OptionDoc {
  const d = o.defaultValueDescription ?? (o.defaultValue === undefined || typeof o.defaultValue === 'boolean' ? undefined : JSON.stringify(o.defaultValue));
  return {
    flags: o.flags,
    long: o.long ?? null,
    short: o.short ?? null,
    description: o.description,
    takesValue: o.required || o.optional,
    choices: o.argChoices ?? null,
    default: d ?? null,
  };
}

/** Every command with an action, depth first in declaration order; groups (`fleet`, `lab`, `hosts`) only through their subcommands. */
export function commandDocs(program: Command): CommandDoc[] {
  defineAll(program);
  const out: CommandDoc[] = [];
  const walk = (command: Command, prefix: string[]): void => {
    for (const sub of command.commands) {
      if ((sub as unknown as { _hidden?: boolean })._hidden === true) continue;
      const path = [...prefix, sub.name()];
      if (sub.commands.length > 0) {
        walk(sub, path);
        continue;
      }
      out.push({
        path: path.join(' '),
        usage: `palisade ${path.join(' ')} ${sub.usage()}`.trim(),
        description: sub.description(),
        arguments: sub.registeredArguments.map((a) => ({ name: a.name(), description: a.description })),
        options: sub.options.filter(visible).map(optionDoc),
      });
    }
  };
  walk(program, []);
  return out;
}

export function globalOptions(program: Command): OptionDoc[] {
  return defineAll(program).options.filter(visible).map(optionDoc);
}

const optionLine = (o: OptionDoc): string =>
  `${o.description}${o.choices === null ? '' : ` (${o.choices.join(', ')})`}${o.default === null ? '' : ` (default: ${o.default})`}`;

export function referenceMarkdown(program: Command): string {
  const lines = [
    '# Command reference',
    '',
    '<!-- Generated from the command line itself by `npm run docs`; test/cli/reference.test.ts keeps it current. -->',
    '',
    'Every command, its arguments and options; `palisade COMMAND --help` prints the same with examples, and',
    '`palisade help TOPIC` the other pages of this directory. Exit codes: `palisade help exit-codes`.',
    '',
    'Options of every command: ' + globalOptions(program).map((o) => `\`${o.flags}\` ${o.description}`).join('; ') + '.',
  ];
  for (const c of commandDocs(program)) {
    lines.push('', `## palisade ${c.path}`, '', c.description, '', '```', c.usage, '```');
    if (c.arguments.length > 0) {
      lines.push('', '| argument | meaning |', '|---|---|', ...c.arguments.map((a) => `| \`${a.name}\` | ${escapeCell(a.description)} |`));
    }
    if (c.options.length > 0) {
      lines.push('', '| option | meaning |', '|---|---|', ...c.options.map((o) => `| \`${o.flags}\` | ${escapeCell(optionLine(o))} |`));
    }
  }
  return `${lines.join('\n')}\n`;
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** roff text: a leading dot or quote is escaped, backslashes doubled, dashes in flags made literal. */
const roff = (text: string): string => text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');

export function manPage(program: Command, version: string, topics: readonly string[]): string {
  const lines = [
    `.TH PALISADE 1 "" "palisade ${version}" "User Commands"`,
    '.SH NAME',
    `palisade \\- ${roff(program.description())}`,
    '.SH SYNOPSIS',
    '.B palisade',
    '.I COMMAND',
    '[\\fIOPTIONS\\fR]',
    '.SH DESCRIPTION',
    'Compiles generic rules whose sources are inventory queries into one nftables (or iptables-restore and ipset) ruleset per host, applies it atomically, and keeps it current across a fleet through etcd.',
    'The reference pages are in the command itself: \\fBpalisade help\\fR \\fITOPIC\\fR.',
    '.SH COMMANDS',
  ];
  for (const c of commandDocs(program)) {
    lines.push('.TP', `.B ${roff(c.usage)}`, roff(c.description));
    for (const a of c.arguments) lines.push('.RS', '.TP', `.I ${roff(a.name)}`, roff(a.description), '.RE');
    for (const o of c.options) lines.push('.RS', '.TP', `.B ${roff(o.flags)}`, roff(optionLine(o)), '.RE');
  }
  lines.push('.SH OPTIONS');
  for (const o of globalOptions(program)) lines.push('.TP', `.B ${roff(o.flags)}`, roff(o.description));
  lines.push(
    '.SH EXIT STATUS',
    `.TP\n${EXIT.ok}\nsuccess; for a check, nothing to report`,
    `.TP\n${EXIT.failed}\ninvalid input, or an operation that failed (the message says whether anything was changed)`,
    `.TP\n${EXIT.usage}\nthe command was called wrongly`,
    `.TP\n${EXIT.attention}\na state to alert on (see \\fBpalisade help exit\\-codes\\fR)`,
    `.TP\n${EXIT.pending}\n\\fBstatus \\-\\-exit\\-code\\fR: an apply waits for confirmation`,
    '.SH ENVIRONMENT',
    '.TP\n.B NO_COLOR\nno colour in the output, whatever the terminal',
    '.TP\n.B PALISADE_STATE_DIR\nwhere the applied state lives (default /var/lib/palisade)',
    '.TP\n.B PALISADE_ETCD_USER, PALISADE_ETCD_PASSWORD_FILE, PALISADE_ETCD_CACERT, PALISADE_ETCD_CERT, PALISADE_ETCD_KEY\netcd credentials and TLS, where the flags are not given',
    '.SH SEE ALSO',
    `\\fBpalisade help\\fR \\fITOPIC\\fR, with TOPIC one of: ${topics.map(roff).join(', ')}.`,
  );
  return `${lines.join('\n')}\n`;
}

function completionWords(program: Command): { top: string[]; subs: Map<string, string[]>; options: Map<string, string[]> } {
  const docs = commandDocs(program);
  const top = [...new Set(docs.map((d) => d.path.split(' ')[0] as string))];
  const subs = new Map<string, string[]>();
  for (const d of docs) {
    const [group, sub] = d.path.split(' ');
    if (sub !== undefined) subs.set(group as string, [...(subs.get(group as string) ?? []), sub]);
  }
  const options = new Map(docs.map((d) => [d.path, [...d.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== null)), '--help']]));
  return { top, subs, options };
}

const shellWord = (w: string): string => (/^[\w.:=/-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`);

export function bashCompletion(program: Command): string {
  const { top, subs, options } = completionWords(program);
  const cases = [...options].map(([path, flags]) => `    ${shellWord(path)}) opts=${shellWord(flags.join(' '))} ;;`);
  const groups = [...subs].map(([group, names]) => `    ${shellWord(group)}) subs=${shellWord(names.join(' '))} ;;`);
  return `# bash completion for palisade: palisade completion bash > /etc/bash_completion.d/palisade
_palisade() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd="" subs="" opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${shellWord(top.join(' '))} -- "$cur"))
    return
  fi
  cmd=\${COMP_WORDS[1]}
  case "$cmd" in
${groups.join('\n')}
  esac
  if [ -n "$subs" ] && [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    return
  fi
  [ -n "$subs" ] && cmd="$cmd \${COMP_WORDS[2]}"
  case "$cmd" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _palisade palisade
`;
}

export function zshCompletion(program: Command): string {
  const docs = commandDocs(program);
  const { top, subs, options } = completionWords(program);
  const describe = (path: string): string => (docs.find((d) => d.path === path)?.description ?? subs.get(path)?.join(', ') ?? '').replace(/[:'\n]/g, ' ').slice(0, 70);
  const topList = top.map((t) => `'${t}:${describe(t)}'`).join(' ');
  const subCases = [...subs].map(([group, names]) => `      ${group}) _values 'subcommand' ${names.map((n) => `'${n}[${describe(`${group} ${n}`)}]'`).join(' ')} ;;`);
  const optCases = [...options].map(([path, flags]) => `      ${shellWord(path)}) _arguments '*:file:_files' ${flags.filter((f) => f.startsWith('--')).map((f) => `'${f}'`).join(' ')} ;;`);
  return `#compdef palisade
# zsh completion for palisade: palisade completion zsh > "\${fpath[1]}/_palisade"
_palisade() {
  if (( CURRENT == 2 )); then
    local -a commands
    commands=(${topList})
    _describe 'command' commands
    return
  fi
  local cmd=\${words[2]}
  if (( CURRENT == 3 )); then
    case $cmd in
${subCases.join('\n')}
    esac
  fi
  (( \${+words[3]} )) && [[ \${words[3]} != -* ]] && cmd="$cmd \${words[3]}"
  case $cmd in
${optCases.join('\n')}
    *) _files ;;
  esac
}
_palisade "$@"
`;
}
