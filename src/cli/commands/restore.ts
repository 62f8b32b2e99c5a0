/** `palisade restore`: load the last applied ruleset from the state directory (at boot; no policy or inventory). */
import { restore } from '../../apply/lifecycle.ts';
import type { Output } from '../output.ts';
import { hostContext, type HostOptions } from '../../app/host.ts';

export async function restoreCommand(options: HostOptions, output: Output): Promise<number> {
  const { restored, revertedPending } = await restore(hostContext(options));
  if (revertedPending) output.err('warning: the last apply was never confirmed: the ruleset before it is restored instead');
  output.out(restored === null ? 'nothing to restore: no palisade ruleset is applied' : `restored apply ${restored.id} (${restored.backend}, sha256 ${restored.hash.slice(0, 12)})`);
  return 0;
}
