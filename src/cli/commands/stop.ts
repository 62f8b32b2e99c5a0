/** `palisade stop`: remove palisade's table, chains, jumps and sets; other tools' rules stay. */
import { stop } from '../../apply/lifecycle.ts';
import type { Output } from '../output.ts';
import { hostContext, type HostOptions } from '../../app/host.ts';

export async function stopCommand(options: HostOptions, output: Output): Promise<number> {
  const removed = await stop(hostContext(options));
  output.out(`stopped: palisade's rules are removed${removed === null ? '' : `; \`palisade rollback\` loads apply ${removed.id} again`}`);
  return 0;
}
