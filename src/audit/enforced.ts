/**
 * The compiler that judges flows as if every host enforced: audit mode accepts what it logs, so a
 * policy in audit mode is evaluated with its audit settings removed (what switching to enforce would do).
 */
import { FleetCompiler, namesToResolve } from '../compile/compile.ts';
import type { Inventory } from '../inventory/types.ts';
import type { Policy } from '../policy/types.ts';
import { resolveAll, type Resolver } from '../resolve/resolver.ts';

export function enforcedPolicy(policy: Policy): Policy {
  const { audit: _audit, ...settings } = policy.settings;
  return { ...policy, settings };
}

export async function enforcedCompiler(policy: Policy, inventory: Inventory, resolver: Resolver): Promise<FleetCompiler> {
  const enforced = enforcedPolicy(policy);
  const names = await resolveAll(namesToResolve(enforced, inventory), resolver);
  return new FleetCompiler({ policy: enforced, inventory, names });
}
