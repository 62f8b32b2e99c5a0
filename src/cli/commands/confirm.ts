/** `palisade confirm`: keep the ruleset a pending `apply --confirm` loaded, and stop its revert timer. */
import { confirmApply } from '../../apply/lifecycle.ts';
import type { Output } from '../output.ts';
import { hostContext, type HostOptions } from '../../app/host.ts';

export async function confirmCommand(options: HostOptions, output: Output): Promise<number> {
  const applied = await confirmApply(hostContext(options));
  output.out(`confirmed: apply ${applied.id} (${applied.backend}, sha256 ${applied.hash.slice(0, 12)}) is kept`);
  return 0;
}
