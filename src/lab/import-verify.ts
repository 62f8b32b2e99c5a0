/**
 * `import --verify` in the kernel: the original rules loaded as the tool loads them (src/import/original.ts)
 * in one network namespace, the imported policy loaded by palisade's nft backend in another, each behind a
 * peer namespace of its own with the same addresses, and the same flows probed on both sides with real
 * connections by the lab's probe agents: TCP, UDP and ICMP echo, in (from the peer: addresses each rule
 * names, and a stranger) and out (to them, as each user the rules name), on each interface the rules name.
 * A flow differs when the kernel's verdicts (accepted, rejected, dropped) differ; the rules as read say, where
 * they agree with the kernel, which rule decided. Namespace names are unique per run and removed whatever
 * happens.
 */
import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { Ruleset } from '../compile/ir.ts';
import type { Decision } from '../explain/evaluate.ts';
import type { LoadStep } from '../import/original.ts';
import type { ImportedPolicy } from '../import/model.ts';
import { DEFAULT_SPORT, explainProbe, probesFor, verifyAddresses, type Explained, type Probe, type VerifyReport } from '../import/verify.ts';
import { runTool } from '../kernel/exec.ts';
import { loadRuleset } from '../kernel/load.ts';
import { run } from './command.ts';
import { addNamespace, deleteNamespace, ipBatch, sysctl } from './namespaces.ts';
import type { Outcome } from './probe-agent.ts';
import { Agent, bounded, observedDecision } from './probe-run.ts';

export interface KernelVerifyRequest {
  imported: ImportedPolicy;
  /** How the tool loads its rules. */
  original: LoadStep[];
  /** The imported policy compiled for the verify host (src/import/verify.ts#compileForVerify). */
  ruleset: Ruleset;
  host: string;
  /** Called as probes finish (for a progress line). */
  onProgress?: (done: number, total: number) => void;
  timeoutMs?: number;
  retryTimeoutMs?: number;
}

const SIDES = ['original', 'palisade'] as const;
type Side = (typeof SIDES)[number];
const CONCURRENCY = 600;
/** A peer's link-local addresses on each link: the target's gateways, so the target resolves one neighbour per link, not one per peer address. */
const PEER_LINK_LOCAL = 'fe80::1';
const PEER_LINK_LOCAL_V4 = '169.254.0.1';
const SYSCTLS = {
  'net.ipv6.conf.all.accept_dad': '0',
  'net.ipv6.conf.default.accept_dad': '0',
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.default.rp_filter': '0',
  'net.ipv4.ping_group_range': '0 2147483647',
  /* A reject answers every probe: ICMP errors are not rate-limited here (TCP resets never are). */
  'net.ipv4.icmp_ratelimit': '0',
  'net.ipv6.icmp.ratelimit': '0',
  'net.ipv4.icmp_msgs_per_sec': '1000000',
  'net.ipv4.icmp_msgs_burst': '1000000',
};

/** An address a probe can use as a peer: no unspecified, loopback, multicast, broadcast, class E, link-local or mapped address. */
export function probeableAddress(address: string): boolean {
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4' && ((parsed as ipaddr.IPv4).octets[0] ?? 0) >= 240) return false;
  return !['unspecified', 'loopback', 'multicast', 'broadcast', 'linkLocal', 'ipv4Mapped'].includes(parsed.range());
}

/** A name a namespace's link can have (the kernel's limit, no separators, not the loopback): the imported files' names are input. */
export const linkName = (name: string): boolean => /^[A-Za-z0-9_.-]{1,15}$/.test(name) && name !== 'lo' && name !== '.' && name !== '..';

/** Why a flow cannot be probed in the kernel, or null. */
function unprobeable(p: Probe, targets: ReadonlySet<string>): string | null {
  if (!linkName(p.iface)) return `interface ${JSON.stringify(p.iface)} cannot be made in a namespace`;
  if (!probeableAddress(p.peer)) return `address ${p.peer} cannot be a probe's peer`;
  if (targets.has(p.peer)) return `address ${p.peer} is the verify host's own`;
  if (p.icmpType !== null && p.icmpType !== 'echo-request') return `ICMP type ${p.icmpType}: the probe sends echo requests only`;
  return null;
}

interface Layout {
  target: string;
  peer: string;
}

async function makeSide(layout: Layout, interfaces: ReadonlyArray<[string, { 4: string; 6: string }]>, peers: readonly string[], ephemeral: string): Promise<void> {
  await addNamespace(layout.target);
  await addNamespace(layout.peer);
  for (const namespace of [layout.target, layout.peer]) await sysctl(namespace, { ...SYSCTLS, 'net.ipv4.ip_local_port_range': ephemeral });
  const target = ['link set lo up'];
  /* `ip rule` takes its family from the command line, not from the address. */
  const targetV6Rules: string[] = [];
  const peer = ['link set lo up'];
  interfaces.forEach(([name, a], k) => {
    const link = `pc${k}`;
    target.push(`link add ${name} type veth peer name ${link} netns ${layout.peer}`, `link set ${name} up`, `addr add ${a[4]}/32 dev ${name}`, `addr add ${a[6]}/128 dev ${name} nodad`);
    if (k === 0) target.push(`route add 0.0.0.0/0 via ${PEER_LINK_LOCAL_V4} dev ${name} onlink`, `route add ::/0 via ${PEER_LINK_LOCAL} dev ${name}`);
    else {
      /* Replies and outbound flows from this interface's addresses leave through it. */
      const table = 100 + k;
      target.push(`rule add from ${a[4]} table ${table}`, `route add 0.0.0.0/0 via ${PEER_LINK_LOCAL_V4} dev ${name} onlink table ${table}`, `route add ::/0 via ${PEER_LINK_LOCAL} dev ${name} table ${table}`);
      targetV6Rules.push(`rule add from ${a[6]} table ${table}`);
    }
    peer.push(`link set ${link} up`, `addr add ${PEER_LINK_LOCAL_V4}/32 dev ${link}`, `addr add ${PEER_LINK_LOCAL}/64 dev ${link} nodad`, `route add ${a[4]}/32 dev ${link}`, `route add ${a[6]}/128 dev ${link}`);
  });
  for (const address of peers) peer.push(`addr add ${address}/${address.includes(':') ? '128 nodad' : '32'} dev lo`);
  await ipBatch(layout.target, target);
  if (targetV6Rules.length > 0) await run('ip', ['-6', '-n', layout.target, '-batch', '-'], `${targetV6Rules.join('\n')}\n`);
  await ipBatch(layout.peer, peer);
}

async function loadOriginal(namespace: string, steps: readonly LoadStep[]): Promise<void> {
  for (const step of steps) await runTool({ netns: namespace }, step.tool, step.args, step.text, `${step.tool} ${step.args.join(' ')} (loading ${step.what})`.replace('  ', ' '));
}

interface Attempt {
  outcome: Outcome;
  detail: string;
  decision: Decision | null;
}

/** Whether a rule names the probe's source port, for its protocol and near its destination ports (the probes' edges). */
function namesSport(imported: ImportedPolicy, p: Probe): boolean {
  return imported.entries.some((e) => {
    const r = e.kind === 'raw' ? e.known : e;
    if (r.direction !== p.direction || (r.protocol !== 'all' && r.protocol !== p.protocol)) return false;
    if (!(r.sport ?? []).some((range) => range.from === p.sport)) return false;
    return r.dport === null || (p.dport !== null && r.dport.some((range) => p.dport as number >= range.from - 1 && (p.dport as number) <= range.to + 1));
  });
}

/** An ephemeral port range (for `ip_local_port_range`) holding no probed port, so no probe's own socket takes one. */
export function ephemeralRange(ports: ReadonlySet<number>): string {
  for (const from of [40000, 45000, 50000, 20000, 25000, 10000, 15000, 5000]) {
    let clear = true;
    for (const port of ports) if (port >= from && port < from + 4000) clear = false;
    if (clear) return `${from} ${from + 3999}`;
  }
  return '32768 60999';
}

/** The source port a probe binds: the one its rules name, else any (the kernel's choice). */
const fixedSport = (p: Probe): number | null => (p.sport === null || p.sport === DEFAULT_SPORT ? null : p.sport);

export async function verifyInKernel(request: KernelVerifyRequest): Promise<VerifyReport> {
  const { imported, ruleset } = request;
  const addresses = verifyAddresses(imported);
  /* Interface names come from the imported files: only a plain name becomes a link in a namespace. */
  const interfaces = [...addresses].filter(([name]) => linkName(name));
  const targets = new Set(interfaces.flatMap(([, a]) => [a[4], a[6]]));
  const notCompared = new Map<string, number>();
  const probes: Probe[] = [];
  for (const p of probesFor(imported)) {
    /* A named source port matters only to the rules naming it: other flows are probed from any port. */
    if (fixedSport(p) !== null && !namesSport(imported, p)) continue;
    const why = unprobeable(p, targets);
    if (why === null) probes.push(p);
    else notCompared.set(why, (notCompared.get(why) ?? 0) + 1);
  }
  const peers = [...new Set(probes.map((p) => p.peer))];
  const tag = randomBytes(3).toString('hex');
  const layouts: Record<Side, Layout> = {
    original: { target: `pal-iv${tag}-ot`, peer: `pal-iv${tag}-op` },
    palisade: { target: `pal-iv${tag}-pt`, peer: `pal-iv${tag}-pp` },
  };
  const agents = new Map<string, Agent>();
  const agent = (namespace: string, uid: number): Agent => {
    const key = `${namespace}/${uid}`;
    let found = agents.get(key);
    if (found === undefined) {
      found = new Agent(namespace, uid);
      agents.set(key, found);
    }
    return found;
  };
  try {
    const ephemeral = ephemeralRange(new Set(probes.flatMap((p) => [p.dport ?? 0, fixedSport(p) ?? 0])));
    for (const side of SIDES) await makeSide(layouts[side], interfaces, peers, ephemeral);
    await loadOriginal(layouts.original.target, request.original);
    await loadRuleset(ruleset, 'nft', { netns: layouts.palisade.target });
    const self = (p: Probe): string => (addresses.get(p.iface) as { 4: string; 6: string })[p.family];
    /*
     * TCP listens on the wildcard address; UDP on each address probed, since an echo from a wildcard socket
     * leaves from the address routing picks, which the probe's connected socket would not take as the answer.
     */
    const wildcard = probes.some((p) => p.family === 6) ? '::' : '0.0.0.0';
    const listeners = new Map<string, { direction: 'in' | 'out'; protocol: 'tcp' | 'udp'; address: string; port: number }>();
    for (const p of probes) {
      if ((p.protocol !== 'tcp' && p.protocol !== 'udp') || p.dport === null) continue;
      const address = p.protocol === 'tcp' ? wildcard : p.direction === 'in' ? self(p) : p.peer;
      listeners.set(`${p.direction}|${p.protocol}|${address}|${p.dport}`, { direction: p.direction, protocol: p.protocol, address, port: p.dport });
    }
    for (const side of SIDES) {
      await bounded([...listeners.values()], CONCURRENCY, async (l) => {
        const where = l.direction === 'in' ? layouts[side].target : layouts[side].peer;
        const reply = await agent(where, 0).request({ op: 'listen', protocol: l.protocol, address: l.address, port: l.port });
        if ('ok' in reply && !reply.ok) throw new Error(`cannot listen on ${l.protocol} [${l.address}]:${l.port} in namespace ${where}: ${reply.error}`);
      });
    }
    const attempt = async (side: Side, p: Probe, timeoutMs: number): Promise<Attempt> => {
      const from = p.direction === 'in' ? agent(layouts[side].peer, 0) : agent(layouts[side].target, p.uid ?? 0);
      const reply = await from.request({
        op: 'connect',
        protocol: p.protocol,
        address: p.direction === 'in' ? self(p) : p.peer,
        port: p.dport,
        localAddress: p.direction === 'in' ? p.peer : self(p),
        localPort: fixedSport(p),
        timeoutMs,
      });
      const { outcome, detail } = 'outcome' in reply ? reply : { outcome: 'error' as const, detail: reply.ok ? 'no outcome' : reply.error };
      return { outcome, detail, decision: observedDecision(outcome) };
    };
    const results = new Map<Probe, Record<Side, Attempt>>();
    let done = 0;
    const both = async (p: Probe, timeoutMs: number): Promise<void> => {
      const [original, palisade] = await Promise.all(SIDES.map((side) => attempt(side, p, timeoutMs)));
      results.set(p, { original: original as Attempt, palisade: palisade as Attempt });
      request.onProgress?.(++done, probes.length);
    };
    /* Probes binding the same local port run in turns; the others all in the first. */
    const inTurns = async (list: readonly Probe[], timeoutMs: number, concurrency: number): Promise<void> => {
      const turns: Probe[][] = [];
      const seen = new Map<string, number>();
      for (const p of list) {
        const sport = fixedSport(p);
        const key = sport === null ? null : `${p.protocol}|${p.direction === 'in' ? p.peer : self(p)}|${sport}`;
        const turn = key === null ? 0 : (seen.get(key) ?? 0);
        if (key !== null) seen.set(key, turn + 1);
        (turns[turn] ??= []).push(p);
      }
      for (const turn of turns) await bounded(turn, concurrency, (p) => both(p, timeoutMs));
    };
    const differs = (p: Probe): boolean => {
      const r = results.get(p) as Record<Side, Attempt>;
      return r.original.decision === null || r.palisade.decision === null || r.original.decision !== r.palisade.decision;
    };
    const silent = (p: Probe): boolean => SIDES.some((side) => (results.get(p) as Record<Side, Attempt>)[side].decision === 'drop');
    /*
     * A silence or a difference may be a busy machine rather than a firewall: every flow first, quickly; then the
     * silent and differing ones again, slowly; then the still differing ones a last time, slower and fewer at once.
     */
    const passes = [
      { select: (_: Probe): boolean => true, timeoutMs: request.timeoutMs ?? 400, concurrency: CONCURRENCY },
      { select: (p: Probe): boolean => differs(p) || silent(p), timeoutMs: request.retryTimeoutMs ?? 2000, concurrency: CONCURRENCY },
      { select: differs, timeoutMs: 2.5 * (request.retryTimeoutMs ?? 2000), concurrency: CONCURRENCY / 10 },
    ];
    for (const pass of passes) {
      const list = probes.filter((p) => !results.has(p) || pass.select(p));
      done = probes.length - list.length;
      /* Inbound first, then outbound: the host's own connections never meet the flows probing it. */
      for (const direction of ['in', 'out'] as const) await inTurns(list.filter((p) => p.direction === direction), pass.timeoutMs, pass.concurrency);
    }
    const groups = new Map<string, VerifyReport['differences'][number]>();
    let compared = 0;
    for (const p of probes) {
      const r = results.get(p) as Record<Side, Attempt>;
      if (r.original.decision === null || r.palisade.decision === null) {
        const failed = r.original.decision === null ? r.original : r.palisade;
        const why = `the probe failed (${failed.outcome}: ${failed.detail})`;
        notCompared.set(why, (notCompared.get(why) ?? 0) + 1);
        continue;
      }
      compared++;
      if (r.original.decision === r.palisade.decision) continue;
      const model = explainProbe(imported, ruleset, addresses, p);
      const by = (kernel: Decision, read: Explained | { raw: string }): string | null => ('raw' in read ? null : read.decision === kernel ? read.by : null);
      const original = { decision: r.original.decision, by: by(r.original.decision, model.original) };
      const palisade = { decision: r.palisade.decision, by: by(r.palisade.decision, model.palisade) };
      const key = JSON.stringify([original, palisade]);
      const group = groups.get(key) ?? { original, palisade, flows: [] };
      group.flows.push(p);
      groups.set(key, group);
    }
    return { host: request.host, method: 'kernel', compared, differences: [...groups.values()], notCompared: [...notCompared].map(([by, flows]) => ({ by, flows })) };
  } finally {
    await Promise.all([...agents.values()].map((a) => a.close()));
    for (const side of SIDES) for (const namespace of [layouts[side].target, layouts[side].peer]) await deleteNamespace(namespace).catch(() => undefined);
  }
}
