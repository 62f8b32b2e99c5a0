/** `palisade rollback`: load the ruleset applied before the current one (or remove palisade's if there was none). */
import { rollback } from '../../apply/lifecycle.ts';
import type { Output } from '../output.ts';
import { hostContext, type HostOptions } from '../../app/host.ts';

export async function rollbackCommand(options: HostOptions, output: Output): Promise<number> {
  const applied = await rollback(hostContext(options));
  output.out(
    applied === null
      ? 'rolled back: there was no palisade ruleset before, so palisade\'s rules were removed (the host is as open as it was before palisade)'
      : `rolled back to apply ${applied.id} (${applied.backend}, sha256 ${applied.hash.slice(0, 12)}, applied ${applied.appliedAt})`,
  );
  return 0;
}
