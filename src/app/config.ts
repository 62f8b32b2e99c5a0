/** `palisade.yaml`: where policy, inventory and the static name table live, so commands need no flags. */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { plainYaml } from '../plain-yaml.ts';
import { yaml } from '../yaml-module.ts';
import * as z from 'zod/mini';
import { issueLines } from '../schema.ts';
import { InputError, error } from '../diagnostics.ts';

export const CONFIG_FILE = 'palisade.yaml';

export interface Config {
  policy: string[];
  inventory: string;
  /** Where an `exec:` inventory command runs. */
  inventoryCwd: string;
  /** name -> addresses, consulted before the system resolver. */
  dnsHosts: Record<string, string[]>;
  /** Whether names not in dnsHosts go to the system resolver. */
  systemDns: boolean;
}

const schema = z.strictObject({
  policy: z.union([z.string(), z.array(z.string()).check(z.minLength(1))]),
  inventory: z.string().check(z.minLength(1)),
  dns: z.optional(z.string().check(z.minLength(1))),
});

const dnsSchema = z.strictObject({ hosts: z.record(z.string(), z.array(z.string())) });

export interface ConfigOverrides {
  config?: string;
  policy?: string[];
  inventory?: string;
  dns?: string;
  resolve?: boolean;
}

function located(base: string, path: string): string {
  return path.startsWith('exec:') || path.includes('://') || isAbsolute(path) ? path : resolve(base, path);
}

async function readYaml(file: string): Promise<unknown> {
  try {
    const text = await readFile(file, 'utf8');
    return (plainYaml(text) ?? { value: yaml().parse(text) }).value;
  } catch (cause) {
    throw new InputError([error(cause instanceof Error ? cause.message : String(cause), { file })]);
  }
}

function invalid(file: string, cause: z.core.$ZodError): InputError {
  return new InputError(issueLines(cause).map((line) => error(line, { file })));
}

async function readDns(file: string): Promise<Record<string, string[]>> {
  const parsed = dnsSchema.safeParse(await readYaml(file));
  if (!parsed.success) throw invalid(file, parsed.error);
  return parsed.data.hosts;
}

/** Flags win over palisade.yaml; palisade.yaml is read from the working directory unless --config names one. */
export async function loadConfig(overrides: ConfigOverrides, cwd = process.cwd()): Promise<Config> {
  const file = overrides.config === undefined ? resolve(cwd, CONFIG_FILE) : resolve(cwd, overrides.config);
  let fromFile: z.infer<typeof schema> | null = null;
  const needsFile = overrides.config !== undefined || overrides.policy === undefined || overrides.inventory === undefined;
  if (needsFile) {
    const raw = await readYaml(file).catch((e: unknown) => {
      if (overrides.config !== undefined) throw e;
      return null;
    });
    if (raw !== null) {
      const parsed = schema.safeParse(raw);
      if (!parsed.success) throw invalid(file, parsed.error);
      fromFile = parsed.data;
    }
  }
  const base = dirname(file);
  const policy = overrides.policy?.map((p) => resolve(cwd, p)) ?? [fromFile?.policy ?? []].flat().map((p) => located(base, p));
  const inventory = overrides.inventory !== undefined ? located(cwd, overrides.inventory) : fromFile?.inventory === undefined ? undefined : located(base, fromFile.inventory);
  if (policy.length === 0 || inventory === undefined) {
    throw new InputError([error(`no policy or inventory: pass --policy and --inventory, or run where a ${CONFIG_FILE} names them`, { file })]);
  }
  const dnsFile = overrides.dns !== undefined ? resolve(cwd, overrides.dns) : fromFile?.dns === undefined ? undefined : located(base, fromFile.dns);
  const inventoryCwd = overrides.inventory !== undefined ? cwd : base;
  return { policy, inventory, inventoryCwd, dnsHosts: dnsFile === undefined ? {} : await readDns(dnsFile), systemDns: overrides.resolve !== false };
}
