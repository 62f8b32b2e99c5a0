/**
 * Issue 5's benchmark, made honest in issue 15: time from a host joining the fleet until every affected agent
 * has applied a ruleset holding the new address, with the real applier (applyRuleset: nft in one network
 * namespace per agent) at 10 and 100 agents on a real single-member etcd, over repeated joins (p50 and p99).
 * Agents share this process and one etcd client; each keeps its own leases, watch, validated view, ruleset and
 * state. Every agent is affected by the app joins (all carry the rule naming the joining role), the worst case;
 * then one host no rule selects joins (writes, events, applies counted). The policy is pushed once every agent
 * is up, so each compiles and loads its ruleset once against the whole fleet, as after a push. Without root
 * (no namespaces) the agents record rulesets instead (said in the table). 1,000 and 10,000 agents are
 * bench/fleet-sim.ts's: N agents in one process each validate the whole fleet, O(N^2) work this one process
 * would do for N machines.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';
import { kernelApplier, RecordingApplier, type Applier } from '../src/agent/applier.ts';
import { EtcdAgent } from '../src/agent/etcd-agent.ts';
import { silentLogger } from '../src/agent/logger.ts';
import { FleetCompiler } from '../src/compile/compile.ts';
import type { Ruleset } from '../src/compile/ir.ts';
import { connectEtcd } from '../src/fleet/client.ts';
import { fleetKeys, type Keys } from '../src/fleet/keys.ts';
import { Membership } from '../src/fleet/register.ts';
import { encodeRegistration } from '../src/fleet/registry.ts';
import { encodePolicy } from '../src/fleet/policy-record.ts';
import { parseEtcdUrl } from '../src/fleet/url.ts';
import { StaticResolver } from '../src/resolve/resolver.ts';
import { startEtcd } from '../test/helpers/etcd.ts';
import { machineLoad, median, percentile } from './stats.ts';
import { hostAddress } from './fleet.ts';

const POLICY = `settings: { input_drop: true, output_drop: false }
rules:
  App from app:
    on: roles:app
    direction: in
    protocol: tcp
    source: roles:app
    dport: 8080
  SSH from bastions:
    direction: in
    protocol: tcp
    source: roles:bastion
    dport: 22
  Monitoring:
    direction: in
    protocol: tcp
    source: 10.9.0.0/16
    dport: 9100
`;

/** What an agent observes; its registration (roles, the network it may claim in) is the admin's. */
const facts = (i: number) => ({ name: `h${i}`, interfaces: { eth0: [hostAddress(i)] }, lan: 'eth0' });
const registration = (keys: Keys, i: number, roles = ['app']): string => encodeRegistration(keys, { name: `h${i}`, roles, networks: ['10.0.0.0/8'], lan: 'eth0' }).text;

interface Member {
  agent: EtcdAgent;
  last: () => Ruleset | null;
}

/** Joins per run (at least 10, so p99 is not just the one slowest of a handful). */
const JOINS = Math.max(1, Number(process.env['PALISADE_BENCH_JOINS'] ?? 10));
/** How long one join (or the first load of every agent's ruleset) may take before the run is abandoned: a bench must end. */
const JOIN_DEADLINE_MS = 120_000;
const SETUP_DEADLINE_MS = 600_000;

interface Result {
  agents: number;
  kernel: boolean;
  setupMs: number;
  /** Join until every agent has seen the event, per join. */
  fanoutMs: number[];
  /** Join until every agent applied it, per join. */
  convergeMs: number[];
  /** An irrelevant join: etcd writes (its own and statuses), watch events, agents that applied anything. */
  irrelevant: { writes: number; events: number; applied: number };
  /** One agent's CPU per change: derive the inventory, compile its ruleset (median of 20). */
  cycleMs: number;
  writes: number;
  events: number;
}

const holds = (rs: Ruleset | null, ip: string): boolean => rs?.sets.some((s) => s.elements.includes(ip)) ?? false;

async function waitFor(done: () => boolean, what: string, limitMs = JOIN_DEADLINE_MS): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`convergence bench: not done within ${limitMs / 1000} s: ${what}`);
    await sleep(1);
  }
}

async function quiet(members: Member[], eventsNow: () => number): Promise<void> {
  let seen = -1;
  while (seen !== eventsNow()) {
    seen = eventsNow();
    await Promise.all(members.map((m) => m.agent.loop.idle()));
    await sleep(600);
  }
}

async function run(client: Etcd3, keys: Keys, url: string, count: number, namespaces: string[] | null, stateRoot: string): Promise<Result> {
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, k) => client.put(keys.host(`h${i + k}`)).value(registration(keys, i + k))));
  }
  const started = performance.now();
  const log = silentLogger();
  const members: Member[] = Array.from({ length: count }, (_, i) => {
    const recorder = new RecordingApplier();
    let last: Ruleset | null = null;
    const applier: Applier =
      namespaces === null
        ? recorder
        : {
            async apply(rs) {
              const result = await kernelApplier({ stateDir: join(stateRoot, `${count}-h${i}`), target: { netns: namespaces[i] as string }, lockTimeoutMs: 30_000, command: ['bench'] }, 'nft').apply(rs);
              last = rs;
              return result;
            },
          };
    const agent = new EtcdAgent({ host: `h${i}`, client, keys, source: url, ttlSeconds: 30, facts: async () => facts(i), applier, resolver: new StaticResolver({}), log });
    return { agent, last: () => (namespaces === null ? recorder.last : last) };
  });
  const joined: Membership[] = [];
  try {
    await Promise.all(members.map((m) => m.agent.start()));
    const events = () => members.reduce((n, m) => n + m.agent.events, 0);
    const writes = () => members.reduce((n, m) => n + m.agent.status.writes, 0);
    await quiet(members, events);
    /* Every agent is up and sees the whole fleet: the push makes each compile and load once. */
    await client.put(keys.policy).value(encodePolicy([{ path: 'policy.yaml', text: POLICY }]));
    await waitFor(() => members.every((m) => m.last() !== null), 'every agent applied the pushed policy', SETUP_DEADLINE_MS);
    await quiet(members, events);
    const setupMs = performance.now() - started;

    const log2 = silentLogger();
    const fanoutMs: number[] = [];
    const convergeMs: number[] = [];
    const [eventsBefore, writesBefore] = [events(), writes()];
    for (let j = 0; j < JOINS; j++) {
      const joiner = count + 1 + j;
      const ip = hostAddress(joiner);
      await client.put(keys.host(`h${joiner}`)).value(registration(keys, joiner));
      await quiet(members, events);
      const membership = new Membership(client, keys, `h${joiner}`, 30, 300, log2);
      joined.push(membership);
      const seenBefore = members.map((m) => m.agent.events);
      const joinedAt = performance.now();
      await membership.publish({ text: JSON.stringify(facts(joiner)), addresses: [ip] });
      let fanout = 0;
      await waitFor(() => {
        if (fanout === 0 && members.every((m, i) => m.agent.events > (seenBefore[i] as number))) fanout = performance.now() - joinedAt;
        return members.every((m) => holds(m.last(), ip));
      }, `every agent applied ${ip}`);
      convergeMs.push(performance.now() - joinedAt);
      fanoutMs.push(fanout === 0 ? performance.now() - joinedAt : fanout);
    }
    await quiet(members, events);
    const relevantWrites = (writes() - writesBefore) / JOINS;
    const relevantEvents = (events() - eventsBefore) / JOINS;
    /* A host no rule selects: registered, then joining. */
    const other = count + 1 + JOINS;
    const applies = () => members.reduce((n, m) => n + m.agent.loop.counts.compiles + m.agent.loop.counts.updates, 0);
    const [e0, w0, a0] = [events(), writes(), applies()];
    await client.put(keys.host(`h${other}`)).value(registration(keys, other, ['db']));
    const outsider = new Membership(client, keys, `h${other}`, 30, 300, log2);
    joined.push(outsider);
    await outsider.publish({ text: JSON.stringify(facts(other)), addresses: [hostAddress(other)] });
    await quiet(members, events);
    const irrelevant = { writes: 4 + writes() - w0, events: events() - e0, applied: applies() - a0 };
    const cycleMs = agentCycle(members[0] as Member, keys);
    /* A join's own writes: the registration, two lease grants and one transaction; then the statuses of the agents that applied it. */
    const result = { agents: count, kernel: namespaces !== null, setupMs, fanoutMs, convergeMs, irrelevant, cycleMs, writes: 4 + relevantWrites, events: relevantEvents };
    for (const m of joined) await m.leave();
    /* The leaves are relevant too: closing waits until every agent applied them (its namespace is removed next). */
    await quiet(members, events);
    return result;
  } finally {
    /* Also on failure: no cycle may still run (and write state or reach a namespace) once the caller cleans up. */
    await Promise.all(members.map((m) => m.agent.close()));
    await Promise.all(members.map((m) => m.agent.loop.idle()));
  }
}

/** What one agent computes per change, measured alone: the validated inventory and its own ruleset. */
function agentCycle(member: Member, keys: Keys): number {
  const { view } = member.agent;
  const policy = view.policy()?.policy;
  const entry = { key: keys.member('h0'), value: JSON.stringify(facts(0)), createRevision: 1, leased: true };
  const times = Array.from({ length: 20 }, () => {
    view.putKey(entry, view.revision);
    const started = performance.now();
    const inventory = view.inventory();
    if (policy !== undefined) new FleetCompiler({ policy, inventory, names: new Map() }).compile('h0');
    return performance.now() - started;
  });
  return median(times);
}

function withNamespaces(count: number): string[] | null {
  if (process.getuid?.() !== 0) return null;
  const id = randomBytes(3).toString('hex');
  const names = Array.from({ length: count }, (_, i) => `pal-bench-${id}-${i}`);
  for (const [i, name] of names.entries()) {
    if (spawnSync('ip', ['netns', 'add', name]).status !== 0) {
      removeNamespaces(names.slice(0, i));
      return null;
    }
  }
  return names;
}

function removeNamespaces(names: string[] | null): void {
  for (const name of names ?? []) spawnSync('ip', ['netns', 'del', name]);
}

/** Agent counts, one run each: 10 and 100 (PALISADE_BENCH_AGENTS=10 for a quick run). */
const COUNTS = (process.env['PALISADE_BENCH_AGENTS'] ?? '10,100').split(',').map(Number);

export async function benchConvergence(): Promise<string> {
  const etcd = await startEtcd();
  const client = connectEtcd(parseEtcdUrl(etcd.url()));
  const stateRoot = mkdtempSync(join(tmpdir(), 'palisade-bench-'));
  const namespaces = withNamespaces(Math.max(...COUNTS));
  /* Interrupted (Ctrl-C, timeout): no namespace or state left behind; etcd is killed on exit. */
  const cleanup = (): void => {
    removeNamespaces(namespaces);
    rmSync(stateRoot, { recursive: true, force: true });
  };
  const interrupted = (): never => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  const results: Result[] = [];
  try {
    for (const count of COUNTS) {
      const prefix = `/bench-${count}`;
      results.push(await run(client, fleetKeys(prefix), etcd.url(prefix), count, namespaces?.slice(0, count) ?? null, stateRoot));
    }
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    client.close();
    await etcd.close();
    cleanup();
  }
  const ms = (values: number[], p: number): string => percentile(values, p).toFixed(0);
  const rows = results.map(
    (r) =>
      `| ${r.agents} | ${r.kernel ? 'nft in a netns per agent (applyRuleset)' : 'recording (simulated: no render, no nft, no state)'} | ${ms(r.fanoutMs, 50)} / ${ms(r.fanoutMs, 99)} | ${ms(r.convergeMs, 50)} / ${ms(r.convergeMs, 99)} | ${r.cycleMs.toFixed(1)} | ${r.writes.toFixed(0)} | ${r.events.toFixed(0)} | ${r.irrelevant.writes} / ${r.irrelevant.events} / ${r.irrelevant.applied} | ${(r.setupMs / 1000).toFixed(1)} |`,
  );
  return [
    '## Fleet convergence (issues 5, 15)',
    '',
    `${JOINS} hosts join one after another (the admin registers each, then its agent puts its observation and address claim on its leases);`,
    `time until every agent has applied a ruleset holding its address, p50 / p99 over the ${JOINS} joins (nearest rank: with ${JOINS} joins, p99 is the slowest).`,
    'Real etcd (one member, loopback); agents share this process and one etcd client, each with its own leases, watch,',
    'validated view, ruleset and state. Every agent is affected by these joins (worst case): each applies them as',
    'set-element updates without compiling (src/compile/incremental.ts). Then one host that no rule selects joins.',
    'Debounce 100 ms quiet / 500 ms max. Setup: the agents start, then the policy is pushed and every agent compiles',
    'and loads its ruleset once. As root each agent loads its ruleset into its own network namespace through',
    'applyRuleset (nft), the applier the agent runs; otherwise a recording applier keeps the ruleset (said per row).',
    '1,000 and 10,000 agents: bench/fleet-sim.ts (100,000 hosts, watch fan-out through etcd and its gRPC proxy).',
    '',
    "| agents | apply | join → every agent saw it, p50 / p99 (ms) | join → all applied, p50 / p99 (ms) | one agent's full compile (ms) | etcd writes per join | watch events per join | irrelevant join: writes / events / applies | setup (s) |",
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Machine: ${machineLoad()}. The agents of one run share this machine's cores: "all applied" is the`,
    'last of N element updates (N `nft -f` processes) one after another on 2 cores, not what one agent takes.',
    "\"One agent's full compile\" is what an agent alone pays when the policy or its own host changes (its own view and",
    'compiler, nothing shared); a join costs it an incremental update instead (the compile section). Agents on their',
    'own hosts work in parallel: there a join converges in about fan-out + 100 ms debounce + one incremental update +',
    'one `nft -f` of element changes.',
    '',
    'Writes per join: the registration, two lease grants (membership, liveness), one transaction (observation, claim,',
    "liveness), and one `status/<name>` per agent whose ruleset changed. An irrelevant join writes only its own keys: no",
    'agent compiles, applies or writes its status. Watch events: one per agent per key (registration, observation,',
    'claim): etcd fans every change out to every watcher; docs/fleet.md puts `etcd grpc-proxy` in front for large fleets.',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${await benchConvergence()}\n`);
