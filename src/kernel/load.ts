/**
 * The kernel entry points other modules use (the applier, the namespace lab, the fleet agent): pick a
 * backend, load a ruleset atomically, apply a membership-only change, remove palisade's rules.
 */
import type { Ruleset } from '../compile/ir.ts';
import type { Backend, BackendName } from './backend.ts';
import type { Target } from './exec.ts';
import { IptablesBackend } from './iptables.ts';
import { NftBackend } from './nft.ts';

export function backendFor(name: BackendName, target: Target): Backend {
  return name === 'nft' ? new NftBackend(target) : new IptablesBackend(target);
}

/** Validates and loads the ruleset in one transaction; on failure (a KernelError) nothing changed. */
export async function loadRuleset(rs: Ruleset, backend: BackendName, target: Target): Promise<void> {
  await backendFor(backend, target).load(rs);
}

/** Removes palisade's table, chains, jumps and sets; other tools' rules stay. */
export async function removeRuleset(backend: BackendName, target: Target): Promise<void> {
  await backendFor(backend, target).remove();
}

/**
 * Applies a change of set members only (diffRulesets(before, after).membershipOnly) as element additions and
 * deletions, without reloading rules: counters and handles stay. `before` must be what the kernel has.
 */
export async function updateMembership(before: Ruleset, after: Ruleset, backend: BackendName, target: Target): Promise<void> {
  await backendFor(backend, target).updateMembership(before, after);
}
