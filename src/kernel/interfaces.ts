/** Which interface of the target holds an address (`ip -j addr`): the `iif` a packet to it arrives on. */
import { runTool, type Target } from './exec.ts';

interface AddrJson {
  ifname?: string;
  addr_info?: Array<{ local?: string }>;
}

export async function interfaceHolding(target: Target, address: string): Promise<string | null> {
  const links = JSON.parse(await runTool(target, 'ip', ['-j', 'addr', 'show'], undefined, 'listing interface addresses')) as AddrJson[];
  return links.find((link) => link.addr_info?.some((a) => a.local === address))?.ifname ?? null;
}
