/** `palisade observe`: current connections and listening sockets as a flow file. */
import { writeUserFile } from '../../app/files.ts';
import { observe, type Snapshot } from '../../audit/observe.ts';
import { nameFlows, type HostNamer } from '../../audit/host-names.ts';
import { formatFlows, hostNamer, type NamingOptions } from './flows.ts';
import { toJson, type Output } from '../output.ts';

export interface ObserveOptions extends NamingOptions {
  out?: string;
  netns?: string;
  format: 'text' | 'json';
}

function formatSnapshot(s: Snapshot, namer: HostNamer): string {
  const listening = s.listening.map((l) => `  ${l.protocol}/${l.port} on ${l.address ?? '*'}${l.process === null ? '' : ` (${l.process}${l.uid === null ? '' : `, uid ${l.uid}`})`}`);
  return `${formatFlows(s.flows, 0, namer)}listening:\n${listening.length > 0 ? listening.join('\n') : '  nothing'}\n`;
}

export async function observeCommand(options: ObserveOptions, output: Output): Promise<number> {
  const snapshot = await observe(options.netns ?? null);
  const namer = await hostNamer(options, null, (line) => output.err(line));
  const named = { ...snapshot, flows: nameFlows(snapshot.flows, namer) };
  if (options.out !== undefined) {
    await writeUserFile(options.out, toJson(named));
    output.err(`${snapshot.flows.length} flow(s) and ${snapshot.listening.length} listening socket(s) written to ${options.out}`);
    return 0;
  }
  output.out(options.format === 'json' ? toJson(named) : formatSnapshot(snapshot, namer));
  return 0;
}
