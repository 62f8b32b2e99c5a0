/** `palisade observe`: current connections and listening sockets as a flow file. */
import { writeUserFile } from '../../app/files.ts';
import { observe, type Snapshot } from '../../audit/observe.ts';
import { formatFlows } from './flows.ts';
import { toJson, type Output } from '../output.ts';

export interface ObserveOptions {
  out?: string;
  netns?: string;
  format: 'text' | 'json';
}

function formatSnapshot(s: Snapshot): string {
  const listening = s.listening.map((l) => `  ${l.protocol}/${l.port} on ${l.address ?? '*'}${l.process === null ? '' : ` (${l.process}${l.uid === null ? '' : `, uid ${l.uid}`})`}`);
  return `${formatFlows(s.flows, 0)}listening:\n${listening.length > 0 ? listening.join('\n') : '  nothing'}\n`;
}

export async function observeCommand(options: ObserveOptions, output: Output): Promise<number> {
  const snapshot = await observe(options.netns ?? null);
  if (options.out !== undefined) {
    await writeUserFile(options.out, toJson(snapshot));
    output.err(`${snapshot.flows.length} flow(s) and ${snapshot.listening.length} listening socket(s) written to ${options.out}`);
    return 0;
  }
  output.out(options.format === 'json' ? toJson(snapshot) : formatSnapshot(snapshot));
  return 0;
}
