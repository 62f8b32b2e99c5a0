/**
 * Issue 9's benchmark: join-to-accepted latency with the registration/observation split, against the
 * single-key path in the same run. Real etcd (one member, loopback); 10 agents share this process (recording
 * appliers); 100 joins each way, interleaved. A join is accepted when every agent has applied a ruleset
 * holding the new address. Split: the admin registered the host beforehand (not timed); the join is what its
 * agent does (two lease grants, a read of its claims, one transaction with observation, claim and liveness).
 * Baseline: the single-key path as before the split, one write carrying identity and address (here a
 * registration with a pinned address, which readers accept in one step).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { RecordingApplier } from '../src/agent/applier.ts';
import { EtcdAgent } from '../src/agent/etcd-agent.ts';
import { silentLogger } from '../src/agent/logger.ts';
import { connectEtcd } from '../src/fleet/client.ts';
import { fleetKeys } from '../src/fleet/keys.ts';
import { encodePolicy } from '../src/fleet/policy-record.ts';
import { Membership } from '../src/fleet/register.ts';
import { encodeRegistration } from '../src/fleet/registry.ts';
import { parseEtcdUrl } from '../src/fleet/url.ts';
import { StaticResolver } from '../src/resolve/resolver.ts';
import { startEtcd } from '../test/helpers/etcd.ts';
import { percentile } from './stats.ts';
import { hostAddress } from './fleet.ts';

const AGENTS = 10;
const JOINS = 100;
const POLICY = `settings: { input_drop: true, output_drop: false }
rules:
  App from app:
    on: roles:app
    direction: in
    protocol: tcp
    source: roles:app
    dport: 8080
`;
const NETWORK = '10.0.0.0/8';

export async function benchJoin(): Promise<string> {
  const etcd = await startEtcd();
  const client = connectEtcd(parseEtcdUrl(etcd.url()));
  const keys = fleetKeys('/bench-join');
  const log = silentLogger();
  const appliers = Array.from({ length: AGENTS }, () => new RecordingApplier());
  const agents: EtcdAgent[] = [];
  const split: number[] = [];
  const single: number[] = [];
  try {
    await client.put(keys.policy).value(encodePolicy([{ path: 'policy.yaml', text: POLICY }]));
    for (let i = 0; i < AGENTS; i++) {
      await client.put(keys.host(`h${i}`)).value(encodeRegistration(keys, { name: `h${i}`, roles: ['app'], networks: [NETWORK], lan: 'eth0' }).text);
      const agent = new EtcdAgent({
        host: `h${i}`,
        client,
        keys,
        source: 'bench',
        ttlSeconds: 30,
        facts: async () => ({ name: `h${i}`, interfaces: { eth0: [hostAddress(i)] }, lan: 'eth0' }),
        applier: appliers[i] as RecordingApplier,
        resolver: new StaticResolver({}),
        log,
      });
      agents.push(agent);
      await agent.start();
    }
    const accepted = async (ip: string): Promise<void> => {
      while (!appliers.every((a) => a.last?.sets.some((s) => s.elements.includes(ip)) === true)) await sleep(1);
    };
    const memberships: Membership[] = [];
    for (let j = 0; j < JOINS; j++) {
      const n = AGENTS + 2 * j;
      await client.put(keys.host(`h${n}`)).value(encodeRegistration(keys, { name: `h${n}`, roles: ['app'], networks: [NETWORK], lan: 'eth0' }).text);
      await sleep(150);
      const membership = new Membership(client, keys, `h${n}`, 30, 300, log);
      memberships.push(membership);
      let started = performance.now();
      await membership.publish({ text: JSON.stringify({ name: `h${n}`, interfaces: { eth0: [hostAddress(n)] }, lan: 'eth0' }), addresses: [hostAddress(n)] });
      await accepted(hostAddress(n));
      split.push(performance.now() - started);
      await sleep(150);
      const m = n + 1;
      started = performance.now();
      await client.put(keys.host(`h${m}`)).value(encodeRegistration(keys, { name: `h${m}`, roles: ['app'], interfaces: { eth0: [hostAddress(m)] }, lan: 'eth0' }).text);
      await accepted(hostAddress(m));
      single.push(performance.now() - started);
      await sleep(150);
    }
    for (const m of memberships) m.close();
  } finally {
    await Promise.all(agents.map((a) => a.close()));
    client.close();
    await etcd.close();
  }
  const row = (what: string, values: number[]): string => `| ${what} | ${percentile(values, 50).toFixed(0)} | ${percentile(values, 99).toFixed(0)} |`;
  return [
    '## Join to accepted (issue 9)',
    '',
    `${JOINS} joins each way, interleaved, ${AGENTS} agents sharing this process on a real etcd (loopback); a join is`,
    'accepted when every agent has applied a ruleset holding the new address (debounce 100 ms quiet).',
    '',
    '| path | p50 (ms) | p99 (ms) |',
    '|---|---:|---:|',
    row("registration/observation split (the agent's join: leases, claim, observation)", split),
    row('single key (baseline: identity and address in one write)', single),
    '',
    `Ratio p50: ${(percentile(split, 50) / percentile(single, 50)).toFixed(2)}x; p99: ${(percentile(split, 99) / percentile(single, 99)).toFixed(2)}x.`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${await benchJoin()}\n`);
