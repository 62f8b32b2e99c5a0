/** Everything a command needs, loaded once: policy, inventory, resolved names, and a compiler over them. */
import { join } from 'node:path';
import type { ControlPlane } from '../compile/control-plane.ts';
import { controlPlaneOf } from '../fleet/control-plane.ts';
import { isEtcdUrl, parseEtcdUrl } from '../fleet/url.ts';
import { FleetCompiler, namesToResolve } from '../compile/compile.ts';
import { UsageError, type Diagnostic } from '../diagnostics.ts';
import type { Ruleset } from '../compile/ir.ts';
import { localServices } from '../kernel/cgroup.ts';
import type { RawTranslations } from '../compile/raw.ts';
import { loadInventory } from './inventory.ts';
import { loadTranslatedPolicy } from './policy-cache.ts';
import type { Inventory } from '../inventory/types.ts';
import type { Policy } from '../policy/types.ts';
import { SystemResolver } from '../resolve/dns.ts';
import { ChainedResolver, StaticResolver, resolveAll, type Resolver } from '../resolve/resolver.ts';
import { CONFIG_FILE, loadConfig, type Config, type ConfigOverrides } from './config.ts';
import { isDirectory } from './files.ts';

export interface Workspace {
  config: Config;
  policy: Policy;
  inventory: Inventory;
  compiler: FleetCompiler;
  /** The nft forms iptables-translate gives the raw iptables rules that have none (or why it cannot). */
  rawTranslations: RawTranslations;
  /** Warnings from loading the policy and the inventory. */
  diagnostics: Diagnostic[];
}

export function resolverFor(config: Config): Resolver {
  const statics = new StaticResolver(config.dnsHosts);
  return config.systemDns ? new ChainedResolver(statics, new SystemResolver()) : statics;
}

/** A fleet's etcd members, so compile and explain show the automatic etcd failsafe the agents apply. */
async function fleetControlPlane(inventory: string): Promise<{ controlPlane?: ControlPlane }> {
  return isEtcdUrl(inventory) ? { controlPlane: await controlPlaneOf(parseEtcdUrl(inventory).endpoints) } : {};
}

export interface WorkspaceOptions {
  /** The state directory whose policy cache to use (src/app/policy-cache.ts): `palisade apply`'s. */
  policyCache?: string;
}

export async function loadWorkspaceFrom(config: Config, options: WorkspaceOptions = {}): Promise<Workspace> {
  const [{ policy, diagnostics: policyDiagnostics, rawTranslations }, inventory] = await Promise.all([
    loadTranslatedPolicy(config.policy, options.policyCache ?? null),
    loadInventory(config.inventory, { cwd: config.inventoryCwd }),
  ]);
  const names = await resolveAll(namesToResolve(policy, inventory), resolverFor(config));
  let diagnostics: Diagnostic[] | undefined;
  return {
    config,
    policy,
    inventory,
    /* Services and expiry are judged here and now: units running on this machine, rules not yet expired. */
    compiler: new FleetCompiler({ policy, inventory, names, now: Date.now(), rawTranslations, ...localServices(), ...(await fleetControlPlane(config.inventory)) }),
    rawTranslations,
    /* Read when shown: an inventory's warnings across a large fleet cost more than compiling one host, which does not show them. */
    get diagnostics(): Diagnostic[] {
      diagnostics ??= [...policyDiagnostics, ...inventory.diagnostics];
      return diagnostics;
    },
  };
}

/** The ruleset of one host of the workspace; a host the inventory lacks is a usage error. */
export function compileHost(ws: Workspace, host: string): Ruleset {
  if (ws.compiler.host(host) === undefined) throw new UsageError(`host "${host}" is not in the inventory (${ws.inventory.source})`);
  return ws.compiler.compile(host);
}

export async function loadWorkspace(overrides: ConfigOverrides, options: WorkspaceOptions = {}): Promise<Workspace> {
  return loadWorkspaceFrom(await loadConfig(overrides), options);
}

/** The inventory alone (`lab up`): `--inventory` without `--config` needs no palisade.yaml. */
export async function loadInventoryOf(overrides: ConfigOverrides, cwd = process.cwd()): Promise<Inventory> {
  if (overrides.inventory !== undefined && overrides.config === undefined) return loadInventory(overrides.inventory, { cwd });
  const config = await loadConfig(overrides, cwd);
  return loadInventory(config.inventory, { cwd: config.inventoryCwd });
}

/** An earlier version to compare with (`plan --against`): a palisade.yaml, or a directory holding one (e.g. a checkout of the last release). */
export async function loadEarlierWorkspace(path: string, overrides: Pick<ConfigOverrides, 'resolve'>): Promise<Workspace> {
  const config = (await isDirectory(path)) ? join(path, CONFIG_FILE) : path;
  return loadWorkspace({ config, ...(overrides.resolve === undefined ? {} : { resolve: overrides.resolve }) });
}
