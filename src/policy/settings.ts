/** The `settings:` section: AFW's switches with AFW's defaults, and the failsafe (addresses only). */
import { isSeq, type Node } from 'yaml';
import { PORT_PROTOCOLS, PROTOCOLS, type DefaultAction, type Endpoint, type FailsafeEntry, type Settings } from './types.ts';
import { parseCidr } from './address.ts';
import { parseAudit } from './audit.ts';
import { defaultContainerSettings } from './container-settings.ts';
import { parseContainers } from './containers.ts';
import { textEntries } from './endpoints.ts';
import { booleanField, choiceField, portsField } from './fields.ts';
import type { Entry, SourceFile } from './yaml-source.ts';

type CidrEndpoint = Extract<Endpoint, { kind: 'cidr' }>;

const SWITCHES = {
  input_drop: 'inputDrop',
  output_drop: 'outputDrop',
  input_drop_log: 'inputDropLog',
  output_drop_log: 'outputDropLog',
  rule_comments: 'ruleComments',
} as const;

/** Every key of `settings:` (docs/settings.md documents each: test/cli/reference.test.ts). */
export const SETTING_KEYS = [...Object.keys(SWITCHES), 'default_action', 'failsafe', 'mode', 'audit', 'containers'];

const DEFAULT_ACTIONS: readonly DefaultAction[] = ['drop', 'reject'];

const failsafe = (protocol: 'tcp' | 'udp', port: number): FailsafeEntry => ({ protocol, dport: [{ from: port, to: port }], sport: null, peers: null, origin: null });

export function defaultSettings(): Settings {
  return {
    inputDrop: true,
    outputDrop: false,
    inputDropLog: true,
    outputDropLog: true,
    ruleComments: true,
    defaultAction: 'drop',
    failsafe: { in: [failsafe('tcp', 22)], out: [failsafe('udp', 53), failsafe('tcp', 53)] },
    containers: defaultContainerSettings(),
  };
}

function parsePeers(file: SourceFile, entry: Entry): CidrEndpoint[] | null {
  const peers: CidrEndpoint[] = [];
  let ok = true;
  for (const { node, text } of textEntries(file, entry.keyNode, entry.value, entry.key)) {
    const address = parseCidr(text);
    if (address?.ok === true) {
      peers.push({ kind: 'cidr', text, family: address.family, cidr: address.cidr });
      continue;
    }
    ok = false;
    const problem = address === null ? `"${text}" is not an address; the failsafe takes addresses only, so that it never depends on the inventory` : address.message;
    file.error(node, `failsafe ${entry.key}: ${problem}`);
  }
  return ok && peers.length > 0 ? peers : null;
}

function parseEntry(file: SourceFile, node: Node | null, side: 'in' | 'out'): FailsafeEntry | null {
  const peerKey = side === 'in' ? 'source' : 'destination';
  const before = file.diagnostics.length;
  const entries = file.entries(node, `failsafe.${side} entry`, { known: ['protocol', 'dport', 'sport', peerKey], noun: `key in a failsafe.${side} entry` });
  if (entries === null || node === null) return null;
  const field = (key: string): Entry | undefined => entries.find((e) => e.key === key);
  const protocolEntry = field('protocol');
  const protocol = protocolEntry === undefined ? undefined : choiceField(file, protocolEntry, PROTOCOLS);
  if (protocol === undefined) file.error(node, `a failsafe entry needs "protocol" (${PROTOCOLS.join(', ')})`);
  const ports = { dport: field('dport'), sport: field('sport') };
  const dport = ports.dport === undefined ? null : portsField(file, ports.dport);
  const sport = ports.sport === undefined ? null : portsField(file, ports.sport);
  if (protocol != null && PORT_PROTOCOLS.includes(protocol) && ports.dport === undefined) file.error(node, `a ${protocol} failsafe entry needs "dport"`);
  if (protocol != null && !PORT_PROTOCOLS.includes(protocol)) {
    for (const entry of [ports.dport, ports.sport]) if (entry !== undefined) file.error(entry.keyNode, `"${entry.key}" needs protocol tcp or udp, not ${protocol}`);
  }
  const peerEntry = field(peerKey);
  const peers = peerEntry === undefined ? null : parsePeers(file, peerEntry);
  if (file.diagnostics.length !== before || protocol == null) return null;
  return { protocol, dport, sport, peers, origin: file.pos(node) };
}

function parseSide(file: SourceFile, entry: Entry, side: 'in' | 'out'): FailsafeEntry[] | null {
  if (!isSeq(entry.value)) {
    file.error(entry.value ?? entry.keyNode, `failsafe.${side} must be a list of entries such as { protocol: tcp, dport: 22 }`);
    return null;
  }
  const { items } = entry.value;
  if (items.length === 0) file.warning(entry.keyNode, `failsafe.${side} is empty: nothing stays open ${side === 'in' ? 'inbound' : 'outbound'} if the rules lock you out`);
  const parsed = items.map((item) => parseEntry(file, file.resolve(item), side));
  return parsed.every((p) => p !== null) ? (parsed as FailsafeEntry[]) : null;
}

/** The settings of a `settings:` value (null: all defaults), defaults filled in; reports every problem. */
export function parseSettings(file: SourceFile, node: Node | null): Settings {
  const settings = defaultSettings();
  if (node === null) return settings;
  const entries = file.entries(node, 'settings', { known: SETTING_KEYS, noun: 'setting' }) ?? [];
  const audit = parseAudit(file, entries.find((e) => e.key === 'mode'), entries.find((e) => e.key === 'audit'));
  if (audit !== undefined) settings.audit = audit;
  for (const entry of entries) {
    if (entry.key === 'mode' || entry.key === 'audit') continue;
    if (entry.key === 'containers') {
      settings.containers = parseContainers(file, entry);
      continue;
    }
    if (entry.key === 'default_action') {
      const action = choiceField(file, entry, DEFAULT_ACTIONS);
      if (action !== null) settings.defaultAction = action;
      continue;
    }
    if (entry.key === 'failsafe') {
      for (const side of file.entries(entry.value ?? entry.keyNode, 'failsafe', { known: ['in', 'out'], noun: 'key in failsafe' }) ?? []) {
        const parsed = parseSide(file, side, side.key as 'in' | 'out');
        if (parsed !== null) settings.failsafe[side.key as 'in' | 'out'] = parsed;
      }
      continue;
    }
    const value = booleanField(file, entry);
    if (value !== null) settings[SWITCHES[entry.key as keyof typeof SWITCHES]] = value;
  }
  return settings;
}
