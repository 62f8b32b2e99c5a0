/**
 * The agent on the embedded default, files: watches the policy files and directories and the inventory file
 * (fs.watch on their directories, since editors replace files), re-reads and validates everything on a
 * (debounced) change and applies the same way as in fleet mode. Invalid input keeps the last good ruleset
 * and is logged. An `exec:` inventory is read on every change of the policy files.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Config } from '../app/config.ts';
import { loadInventory } from '../app/inventory.ts';
import { loadPolicy } from '../policy/load.ts';
import { AgentLoop, type FleetState, type LoopOptions } from './loop.ts';

/** The loop's options, with the files to read instead of a `read` function. */
export interface FileAgentOptions extends Omit<LoopOptions, 'read'> {
  config: Config;
}

export class FileAgent {
  readonly loop: AgentLoop;
  private readonly watchers: FSWatcher[] = [];
  private revision = 0;

  constructor(private readonly options: FileAgentOptions) {
    this.loop = new AgentLoop({
      host: options.host,
      read: () => this.read(),
      applier: options.applier,
      resolver: options.resolver,
      log: options.log,
      ...(options.report === undefined ? {} : { report: options.report }),
      ...(options.quietMs === undefined ? {} : { quietMs: options.quietMs }),
      ...(options.maxMs === undefined ? {} : { maxMs: options.maxMs }),
    });
  }

  private async read(): Promise<FleetState> {
    const { config } = this.options;
    const [policy, inventory] = await Promise.all([loadPolicy(config.policy), loadInventory(config.inventory, { cwd: config.inventoryCwd })]);
    for (const d of [...policy.diagnostics, ...inventory.diagnostics]) this.options.log.warn({ file: d.file, line: d.line, aboutHost: d.host, rule: d.rule }, d.message);
    return { policy, inventory, revision: ++this.revision };
  }

  /** Watches every input path (a directory itself, a file through its directory). */
  private async watchPath(path: string): Promise<void> {
    const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
    const dir = isDir ? path : dirname(path);
    const name = basename(path);
    const watcher = watch(dir, (_event, file) => {
      if (isDir || file === null || file === name) this.loop.trigger();
    });
    watcher.on('error', (cause) => this.options.log.error({ err: cause.message, path }, 'watching stopped'));
    this.watchers.push(watcher);
  }

  async start(): Promise<void> {
    const { config } = this.options;
    const paths = [...config.policy, ...(config.inventory.startsWith('exec:') ? [] : [config.inventory])];
    for (const path of paths) await this.watchPath(path);
    this.loop.trigger();
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.loop.close();
  }
}
