/**
 * `import --verify`: the imported policy compiled for a host, and the tool's rules as read, both asked for the
 * verdict on the same new flows; every flow where they disagree is a difference. The flows are built from
 * what the rules mention (each network's first and last address and one outside every network, each port
 * range's ends and their neighbours, each interface and user, and ports no rule names), in and out, per
 * family. A flow a raw rule may decide is "not compared": neither side evaluates raw iptables text.
 */
import { FleetCompiler } from '../compile/compile.ts';
import type { RawTranslations } from '../compile/raw.ts';
import type { Family, Ruleset } from '../compile/ir.ts';
import { networksContain } from '../compile/networks.ts';
import { describeOrigin } from '../compile/origin.ts';
import { evaluateChain, type Decision, type Packet } from '../explain/evaluate.ts';
import { parseInventoryDocument } from '../inventory/document.ts';
import type { Policy, PortRange } from '../policy/types.ts';
import { formatPorts } from '../policy/ports.ts';
import ipaddr from 'ipaddr.js';
import type { ImportedEntry, ImportedPolicy } from './model.ts';

/** The host the imported policy is compiled for: addresses from documentation ranges, the users the rules name. */
const HOST_V4 = 254;
const HOST_V6 = 0xfe;
const OUTSIDE = { 4: '198.18.0.77', 6: '2001:db8:eeee::77' } as const;
const UNNAMED_PORTS = [22, 53, 33333];
const OTHER_UID = 4242;
export const OTHER_IFACE = 'eth0';
export const DEFAULT_SPORT = 44444;

export interface Probe {
  direction: 'in' | 'out';
  family: Family;
  protocol: 'tcp' | 'udp' | 'icmp' | 'icmpv6';
  peer: string;
  dport: number | null;
  sport: number | null;
  iface: string;
  uid: number | null;
  icmpType: string | null;
}

export interface Difference {
  probe: Probe;
  /** The tool's verdict and the rule (file:line) or `default` that decided (kernel: `by` only where the rules as read agree with the kernel). */
  original: { decision: Decision; by: string | null };
  palisade: { decision: Decision; by: string | null };
}

export interface VerifyReport {
  host: string;
  /** kernel: both rulesets loaded in network namespaces and probed with real connections; model: evaluated in process. */
  method: 'kernel' | 'model';
  compared: number;
  /** Grouped: one entry per (what decided on each side), with the flows. */
  differences: Array<{ original: Difference['original']; palisade: Difference['palisade']; flows: Probe[] }>;
  /** Flows left out, by why (a raw rule that may decide them, an address or ICMP type a probe cannot use). */
  notCompared: Array<{ by: string; flows: number }>;
}

const within = (port: number | null, ranges: readonly PortRange[] | null): boolean => ranges === null || (port !== null && ranges.some((r) => port >= r.from && port <= r.to));

function entryMatches(e: Pick<ImportedEntry & { kind: 'rule' }, 'direction' | 'family' | 'protocol' | 'peers' | 'dport' | 'sport' | 'interface' | 'user' | 'icmpType'>, p: Probe): boolean {
  if (e.direction !== p.direction) return false;
  if (e.family !== 'both' && e.family !== p.family) return false;
  if (e.protocol !== 'all' && e.protocol !== p.protocol) return false;
  if (e.peers.length > 0 && !networksContain(e.peers.filter((c) => (c.includes(':') ? 6 : 4) === p.family), p.peer, p.family)) return false;
  if (!within(p.dport, e.dport) || !within(p.sport, e.sport)) return false;
  if (e.interface !== null && e.interface !== p.iface) return false;
  if (e.user !== null && e.user.uid !== p.uid) return false;
  return e.icmpType === null || e.icmpType === p.icmpType;
}

/** The tool's verdict: first deciding rule, else the chain's ending; `null` when a raw rule may decide first. */
function originalVerdict(imported: ImportedPolicy, p: Probe): { decision: Decision; by: string } | { raw: string } {
  for (const e of imported.entries) {
    if (e.kind === 'raw') {
      if (e.decidesNew && entryMatches(e.known, p)) return { raw: `${e.place.file}:${e.place.line}` };
      continue;
    }
    if (e.action === 'log' || !entryMatches(e, p)) continue;
    return { decision: e.action, by: `${e.place.file}:${e.place.line}` };
  }
  const end = p.direction === 'in' ? imported.input : imported.output;
  return { decision: end, by: `the ${p.direction === 'in' ? 'input' : 'output'} default (${end})` };
}

/** A network's first and last address. */
function edges(cidr: string): string[] {
  const [address, bits] = ipaddr.parseCIDR(cidr);
  const first = address.toByteArray();
  const last = first.map((b, i) => b | ((1 << Math.max(0, Math.min(8, (i + 1) * 8 - bits))) - 1));
  return [ipaddr.fromByteArray(first).toString(), ipaddr.fromByteArray(last).toString()];
}

/** The flows to compare, from what the rules mention. */
export function probesFor(imported: ImportedPolicy): Probe[] {
  const rules = imported.entries.map((e) => (e.kind === 'raw' ? { ...e.known } : e));
  const families = new Set<Family>();
  for (const r of rules) {
    if (r.family === 'both') {
      families.add(4);
      families.add(6);
    } else families.add(r.family);
  }
  if (families.size === 0) families.add(4);
  const ports = new Set<number>(UNNAMED_PORTS);
  const sports = new Set<number>([DEFAULT_SPORT]);
  for (const r of rules) {
    for (const range of r.dport ?? []) for (const n of [range.from - 1, range.from, range.to, range.to + 1]) if (n >= 1 && n <= 65535) ports.add(n);
    for (const range of r.sport ?? []) sports.add(range.from);
  }
  const ifaces = [...new Set([OTHER_IFACE, ...rules.flatMap((r) => (r.interface === null ? [] : [r.interface]))])];
  const uids = [...new Set([OTHER_UID, ...rules.flatMap((r) => (r.user === null ? [] : [r.user.uid]))])];
  const icmpTypes = [...new Set(['echo-request', ...rules.flatMap((r) => (r.icmpType === null ? [] : [r.icmpType]))])];
  const probes: Probe[] = [];
  for (const family of [...families].sort()) {
    const peers = [...new Set([OUTSIDE[family], ...rules.flatMap((r) => r.peers.filter((c) => (c.includes(':') ? 6 : 4) === family).flatMap(edges))])];
    for (const direction of ['in', 'out'] as const) {
      for (const peer of peers) {
        for (const iface of ifaces) {
          for (const uid of direction === 'out' ? uids : [null]) {
            const base = { direction, family, peer, iface, uid };
            for (const protocol of ['tcp', 'udp'] as const) {
              for (const dport of ports) for (const sport of sports) probes.push({ ...base, protocol, dport, sport, icmpType: null });
            }
            for (const icmpType of icmpTypes) probes.push({ ...base, protocol: family === 4 ? 'icmp' : 'icmpv6', dport: null, sport: null, icmpType });
          }
        }
      }
    }
  }
  return probes;
}

/** Interfaces of the host: the default one, then each one the rules name. */
export function verifyInterfaces(imported: ImportedPolicy): string[] {
  const named = imported.entries.flatMap((e) => {
    const iface = e.kind === 'raw' ? e.known.interface : e.interface;
    return iface === null ? [] : [iface];
  });
  return [...new Set([OTHER_IFACE, ...named])];
}

/** The host's addresses on each of its interfaces (documentation ranges): one per family, distinct per interface. */
export function verifyAddresses(imported: ImportedPolicy): Map<string, { 4: string; 6: string }> {
  return new Map(verifyInterfaces(imported).map((iface, k) => [iface, { 4: `192.0.2.${HOST_V4 - k}`, 6: `2001:db8:ffff::${(HOST_V6 - k).toString(16)}` }]));
}

/** The synthetic host the policy is compiled for: its name, addresses of both families per interface, the rules' users. */
export function verifyHost(imported: ImportedPolicy, name: string): string {
  const users = Object.fromEntries(imported.entries.flatMap((e) => {
    const user = e.kind === 'raw' ? e.known.user : e.user;
    return user === null ? [] : [[user.name, user.uid]];
  }));
  const interfaces = Object.fromEntries([...verifyAddresses(imported)].map(([iface, a]) => [iface, [a[4], a[6]]]));
  return JSON.stringify({ hosts: [{ name, environment: 'imported', interfaces, lan: OTHER_IFACE, users }] });
}

/** The imported policy compiled for the synthetic host. */
export function compileForVerify(imported: ImportedPolicy, policy: Policy, hostName: string, rawTranslations?: RawTranslations): Ruleset {
  const inventory = parseInventoryDocument(verifyHost(imported, hostName), '(import --verify host)');
  return new FleetCompiler({ policy, inventory, names: new Map(), now: Date.now(), ...(rawTranslations === undefined ? {} : { rawTranslations }) }).compile(hostName);
}

export type Explained = { decision: Decision; by: string };

/** What each side decides for a flow, as read: the tool's rules (or the raw rule that may decide first), and palisade's compiled ruleset. */
export function explainProbe(imported: ImportedPolicy, rs: Ruleset, addresses: ReadonlyMap<string, { 4: string; 6: string }>, probe: Probe): { original: Explained | { raw: string }; palisade: Explained } {
  const self = (addresses.get(probe.iface) ?? addresses.get(OTHER_IFACE))?.[probe.family] as string;
  const packet: Packet = {
    family: probe.family,
    saddr: probe.direction === 'in' ? probe.peer : self,
    daddr: probe.direction === 'in' ? self : probe.peer,
    protocol: probe.protocol,
    dport: probe.dport,
    sport: probe.sport,
    iif: probe.direction === 'in' ? probe.iface : null,
    oif: probe.direction === 'out' ? probe.iface : null,
    uid: probe.uid,
    ...(probe.icmpType === null ? {} : { icmpType: probe.icmpType }),
  };
  const verdict = evaluateChain(rs, probe.direction === 'in' ? 'input' : 'output', packet);
  const by = verdict.rule === null ? 'the chain policy (accept)' : describeOrigin(verdict.rule.origin);
  return { original: originalVerdict(imported, probe), palisade: { decision: verdict.decision, by } };
}

export function verifyImport(imported: ImportedPolicy, policy: Policy, hostName: string): VerifyReport {
  const rs = compileForVerify(imported, policy, hostName);
  const addresses = verifyAddresses(imported);
  const groups = new Map<string, VerifyReport['differences'][number]>();
  const notCompared = new Map<string, number>();
  let compared = 0;
  for (const probe of probesFor(imported)) {
    const { original, palisade } = explainProbe(imported, rs, addresses, probe);
    if ('raw' in original) {
      notCompared.set(original.raw, (notCompared.get(original.raw) ?? 0) + 1);
      continue;
    }
    compared++;
    if (palisade.decision === original.decision) continue;
    const key = `${original.by}|${original.decision}|${palisade.by}|${palisade.decision}`;
    const group = groups.get(key) ?? { original, palisade, flows: [] };
    group.flows.push(probe);
    groups.set(key, group);
  }
  return { host: hostName, method: 'model', compared, differences: [...groups.values()], notCompared: [...notCompared].map(([by, flows]) => ({ by: `the raw rule at ${by} may decide`, flows })) };
}

export function formatProbe(p: Probe): string {
  const what = p.dport === null ? `${p.protocol}${p.icmpType === null ? '' : ` ${p.icmpType}`}` : `${p.protocol}/${p.dport}`;
  const sport = p.sport === null || p.sport === DEFAULT_SPORT ? '' : ` sport ${p.sport}`;
  const user = p.uid === null || p.uid === OTHER_UID ? '' : ` uid ${p.uid}`;
  const iface = p.iface === OTHER_IFACE ? '' : ` ${p.direction === 'in' ? 'on' : 'via'} ${p.iface}`;
  return `${p.direction} ${what}${sport} ${p.direction === 'in' ? 'from' : 'to'} ${p.peer}${iface}${user}`;
}

const side = (e: { decision: Decision; by: string | null }): string => (e.by === null ? e.decision : `${e.decision} by ${e.by}`);

export function formatVerifyReport(report: VerifyReport, tool: string): string {
  const lines: string[] = [];
  const differing = report.differences.reduce((n, d) => n + d.flows.length, 0);
  const skipped = report.notCompared.reduce((n, d) => n + d.flows, 0);
  const how = report.method === 'kernel' ? 'probed in network namespaces' : 'compared (as read, in process)';
  lines.push(`${report.compared} flows ${how} on ${report.host}: ${differing === 0 ? 'same verdict on every one' : `${differing} differ`}${skipped === 0 ? '' : `; ${skipped} not compared`}`);
  for (const d of report.differences) {
    const ports = formatPorts(
      [...new Set(d.flows.flatMap((f) => (f.dport === null ? [] : [f.dport])))].sort((a, b) => a - b).map((n) => ({ from: n, to: n })),
    );
    lines.push(`~ ${tool}: ${side(d.original)}; palisade: ${side(d.palisade)} (${d.flows.length} flow${d.flows.length === 1 ? '' : 's'}${ports === '' ? '' : `, ports ${ports}`})`);
    for (const f of d.flows.slice(0, 3)) lines.push(`    ${formatProbe(f)}`);
    if (d.flows.length > 3) lines.push(`    ... and ${d.flows.length - 3} more`);
  }
  for (const n of report.notCompared) lines.push(`? not compared: ${n.flows} flow${n.flows === 1 ? '' : 's'}: ${n.by}`);
  return `${lines.join('\n')}\n`;
}
