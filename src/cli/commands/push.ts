/**
 * `palisade push`: validates the policy files (parse, then compile every host of the current fleet) and
 * writes them to the fleet's `policy` key. Anything invalid is refused and nothing is written (exit 1).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { FleetCompiler, namesToResolve } from '../../compile/compile.ts';
import { InputError, error } from '../../diagnostics.ts';
import { decodePolicy, encodePolicy } from '../../fleet/policy-record.ts';
import { readSnapshot } from '../../fleet/snapshot.ts';
import { FleetView } from '../../fleet/view.ts';
import { parsePolicyFiles } from '../../policy/load.ts';
import { resolveAll } from '../../resolve/resolver.ts';
import { loadConfig, type ConfigOverrides } from '../../app/config.ts';
import { reportDiagnostics, type Output } from '../output.ts';
import { resolverFor } from '../../app/workspace.ts';
import { withFleet, type FleetOptions } from './fleet-connection.ts';

export type PushOptions = ConfigOverrides & FleetOptions;

const POLICY_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** The files a policy path stands for, read: itself, or a directory's policy files sorted by name. */
async function readPolicyFiles(paths: readonly string[]): Promise<Array<{ path: string; text: string }>> {
  const files: Array<{ path: string; text: string }> = [];
  for (const path of paths) {
    try {
      const names = (await stat(path)).isDirectory()
        ? (await readdir(path)).filter((n) => POLICY_EXTENSIONS.includes(extname(n).toLowerCase())).sort().map((n) => join(path, n))
        : [path];
      for (const file of names) files.push({ path: file, text: await readFile(file, 'utf8') });
    } catch (cause) {
      throw new InputError([error(`cannot read the policy: ${(cause as Error).message}`, { file: path })]);
    }
  }
  return files;
}

export async function pushCommand(options: PushOptions, output: Output): Promise<number> {
  const config = await loadConfig(options);
  const files = await readPolicyFiles(config.policy);
  const loaded = parsePolicyFiles(files);
  const record = encodePolicy(files);
  return withFleet({ ...options, inventory: config.inventory }, async ({ client, keys, url }) => {
    /* What every reader will do with the stored record: the base names must not change the meaning. */
    decodePolicy(record, keys.policy);
    const view = new FleetView(keys, url);
    view.reset(await readSnapshot(client, keys));
    const inventory = view.inventory();
    const names = await resolveAll(namesToResolve(loaded.policy, inventory), resolverFor(config));
    const rulesets = new FleetCompiler({ policy: loaded.policy, inventory, names }).compileAll();
    reportDiagnostics(output, [...loaded.diagnostics, ...inventory.diagnostics]);
    const put = await client.put(keys.policy).value(record).exec();
    output.out(
      `pushed policy ${loaded.policy.revision} (${loaded.policy.rules.length} rules, ${files.length} file(s)) to ${url} at etcd revision ${put.header.revision}; ` +
        `compiled for ${rulesets.length} host(s)`,
    );
    return 0;
  });
}
