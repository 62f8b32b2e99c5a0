/**
 * Policy language v2 in the real kernel, on both backends: compiled rulesets loaded with nft, or with the iptables
 * backend (iptables-restore, ipset; hashlimit for the rate limit, -m cgroup for the service), into namespaces this
 * test creates (unique names per run, always removed), probed with real connections. An ordered deny carves a hole out of
 * an allow; a reject is refused at once where a drop times out; a rate limit admits some new connections per
 * source, then the excess falls through (to a reject); ICMP echo passes but not timestamp; a service rule
 * admits a process in the unit's cgroup and not the same uid outside it; an expired rule is absent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { explainFlow } from '../../src/explain/flow.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { cgroupV2Mount, localServices } from '../../src/kernel/cgroup.ts';
import { nftLoadScript } from '../../src/kernel/nft.ts';
import type { BackendName } from '../../src/kernel/backend.ts';
import { backendFor } from '../../src/kernel/load.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import { unitCgroup } from '../helpers/unit-cgroup.ts';
import { run, skipUnlessRoot } from '../helpers/netns.ts';

/** The whole scenario on one backend, in namespaces of its own. */
function suite(backend: BackendName): void {
  const id = randomBytes(3).toString('hex');
  const NS = { srv: `p2s-${id}`, c1: `p2a-${id}`, c2: `p2b-${id}` };
  const IF = { s1: `p2s1-${id}`, c1: `p2c1-${id}`, s2: `p2s2-${id}`, c2: `p2c2-${id}` };
  const UNIT = `pal-e2e-${id}.service`;
  const PEER = 'test/e2e/fixtures/policy-v2-peer.mjs';
  const TIMEOUT_MS = 1500;
  const mount = cgroupV2Mount();
  const skip = skipUnlessRoot !== false ? skipUnlessRoot : spawnSync('python3', ['--version']).status !== 0 ? 'needs python3 (ICMP timestamp probe)' : false;

  const INVENTORY = `
  hosts:
    - { name: srv, environment: e2e, roles: [server], interfaces: { ${IF.s1}: [10.77.1.1], ${IF.s2}: [10.77.2.1] }, lan: ${IF.s1}, users: { root: 0 } }
    - { name: c1, environment: e2e, roles: [client], interfaces: { ${IF.c1}: [10.77.1.2] }, lan: ${IF.c1}, users: { root: 0 } }
    - { name: c2, environment: e2e, roles: [client], interfaces: { ${IF.c2}: [10.77.2.2] }, lan: ${IF.c2}, users: { root: 0 } }
  `;

  const POLICY = `
  settings:
    output_drop: true
  rules:
    Web from clients:
      on: roles:server
      direction: in
      protocol: tcp
      source: roles:client
      dport: 8080
    Not c2 to the web:
      on: roles:server
      order: 10
      action: drop
      direction: in
      protocol: tcp
      source: name:c2
      dport: 8080
    Reject 8081:
      on: roles:server
      action: reject
      direction: in
      protocol: tcp
      source: roles:client
      dport: 8081
    Limited:
      on: roles:server
      direction: in
      protocol: tcp
      source: roles:client
      dport: 8083
      limit: { rate: 1/minute, burst: 2, per: source }
    Refuse the excess:
      on: roles:server
      order: 2000
      action: reject
      direction: in
      protocol: tcp
      source: roles:client
      dport: 8083
    Echo only:
      on: roles:server
      direction: in
      protocol: icmp
      icmp_type: [echo-request]
      source: roles:client
    Contractor:
      on: roles:server
      direction: in
      protocol: tcp
      source: roles:client
      dport: 8084
      expires: 2020-01-01T00:00:00Z
    Agent port:
      on: roles:server
      direction: in
      protocol: tcp
      source: roles:client
      dport: 9090
    Agent to the server:
      on: roles:client
      direction: out
      protocol: tcp
      service: ${UNIT}
      destination: roles:server
      dport: 9090
  `;

  const inventory = parseInventoryDocument(INVENTORY, 'inventory.yaml');
  const policy = parsePolicyFiles([{ path: 'policy.yaml', text: POLICY }]).policy;
  const compiler = (): FleetCompiler => new FleetCompiler({ policy, inventory, names: new Map(), now: Date.now(), ...localServices() });

  const inNs = (ns: string, command: string, args: readonly string[]): ReturnType<typeof spawnSync> =>
    spawnSync('nsenter', [`--net=/run/netns/${ns}`, command, ...args], { encoding: 'utf8' });
  const peer = (ns: string, ...args: string[]): string => {
    const r = inNs(ns, process.execPath, [PEER, ...args]);
    assert.equal(r.status, 0, String(r.stderr));
    return String(r.stdout).trim();
  };
  const connect = (ns: string, host: string, port: number, procs?: string): string =>
    peer(ns, 'connect', host, String(port), String(TIMEOUT_MS), ...(procs === undefined ? [] : [procs]));

  describe(`policy language v2 in the kernel: ${backend}`, { skip }, () => {
    let dir = '';
    let listener: ChildProcess | null = null;
    const unitGroup = unitCgroup(mount ?? '', UNIT);

    /** What the kernel holds: nft's table, or iptables-save of palisade's chains. */
    const listing = (ns: string): string =>
      backend === 'nft' ? String(inNs(ns, 'nft', ['list', 'table', 'inet', 'palisade']).stdout) : String(inNs(ns, 'iptables-save', ['-c', '-t', 'filter']).stdout);

    const load = async (host: 'srv' | 'c1', ns: string): Promise<string> => {
      if (backend === 'nft') {
        const path = join(dir, `${host}.nft`);
        writeFileSync(path, nftLoadScript(compiler().compile(host)));
        const r = inNs(ns, 'nft', ['-f', path]);
        assert.equal(r.status, 0, String(r.stderr));
      } else await backendFor('iptables', { netns: ns }).load(compiler().compile(host));
      return listing(ns);
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pal-v2-'));
      for (const ns of Object.values(NS)) run('ip', ['netns', 'add', ns]);
      run('ip', ['link', 'add', IF.s1, 'netns', NS.srv, 'type', 'veth', 'peer', 'name', IF.c1, 'netns', NS.c1]);
      run('ip', ['link', 'add', IF.s2, 'netns', NS.srv, 'type', 'veth', 'peer', 'name', IF.c2, 'netns', NS.c2]);
      const setup: Array<[string, string, string, string | null]> = [
        [NS.srv, IF.s1, '10.77.1.1/24', null],
        [NS.srv, IF.s2, '10.77.2.1/24', null],
        [NS.c1, IF.c1, '10.77.1.2/24', '10.77.1.1'],
        [NS.c2, IF.c2, '10.77.2.2/24', '10.77.2.1'],
      ];
      for (const [ns, dev, address, gateway] of setup) {
        run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        run('ip', ['-n', ns, 'addr', 'add', address, 'dev', dev]);
        run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
        if (gateway !== null) run('ip', ['-n', ns, 'route', 'add', 'default', 'via', gateway]);
      }
      listener = spawn('nsenter', [`--net=/run/netns/${NS.srv}`, process.execPath, PEER, 'listen', '8080', '8081', '8082', '8083', '8084', '9090'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await once(listener.stdout as NodeJS.ReadableStream, 'data');
    });

    after(() => {
      listener?.kill();
      for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns]);
      unitGroup.remove();
      rmSync(dir, { recursive: true, force: true });
    });

    it('without rules every port is open and the kernel answers ICMP timestamp requests (the probes work)', () => {
      for (const port of [8080, 8081, 8082, 8083, 8084]) assert.equal(connect(NS.c2, '10.77.2.1', port), 'open', `port ${port}`);
      assert.equal(peer(NS.c1, 'timestamp', '10.77.1.1'), 'reply');
    });

    it('loads the server ruleset; the expired rule is not in it', async () => {
      const listed = await load('srv', NS.srv);
      assert.match(listed, /comment "Web from clients"/);
      assert.doesNotMatch(listed, /Contractor/);
    });

    it('an ordered deny carves c2 out of the allow', () => {
      assert.equal(connect(NS.c1, '10.77.1.1', 8080), 'open');
      assert.equal(connect(NS.c2, '10.77.2.1', 8080), 'timeout');
    });

    it('a reject is refused at once, a drop times out, and explain says which', () => {
      const started = Date.now();
      assert.equal(connect(NS.c1, '10.77.1.1', 8081), 'refused');
      assert.ok(Date.now() - started < TIMEOUT_MS, 'a reject answers before the timeout');
      assert.equal(connect(NS.c1, '10.77.1.1', 8082), 'timeout');
      const explain = (port: number) => explainFlow(compiler(), inventory.hosts, { source: 'c1', destination: 'srv', protocol: 'tcp', port, sourcePort: null, user: null, family: 4 });
      assert.equal(explain(8081).sides.find((s) => s.direction === 'in')?.decision, 'reject');
      assert.equal(explain(8082).sides.find((s) => s.direction === 'in')?.decision, 'drop');
    });

    it('a rate limit admits new connections per source, then the excess falls through to the reject; its meter is never drift', async () => {
      const kernel = backendFor(backend, { netns: NS.srv });
      const before = await kernel.listing();
      const c1 = Array.from({ length: 5 }, () => connect(NS.c1, '10.77.1.1', 8083));
      assert.equal(c1[0], 'open');
      assert.ok(c1.includes('refused'), `c1 is limited: ${c1.join(', ')}`);
      assert.deepEqual(c1.filter((r) => r !== 'open' && r !== 'refused'), []);
      assert.equal(connect(NS.c2, '10.77.2.1', 8083), 'open', 'c2 has its own bucket');
      if (backend === 'nft') assert.match(listing(NS.srv), /elements = \{ 10\.77\.1\.2 limit rate/, 'the meter holds c1');
      assert.equal(await kernel.listing(), before, 'the addresses the packet path put in the meter are not drift');
    });

    it('ICMP echo passes, timestamp does not', () => {
      assert.equal(inNs(NS.c1, 'ping', ['-c', '1', '-W', '1', '10.77.1.1']).status, 0);
      assert.equal(peer(NS.c1, 'timestamp', '10.77.1.1'), 'timeout');
    });

    it('an expired rule is absent: its port times out', () => {
      assert.equal(connect(NS.c1, '10.77.1.1', 8084), 'timeout');
    });

    it('a service rule admits a process in the unit\'s cgroup, not the same uid outside it', { skip: mount === null ? 'no cgroup v2 mount' : false }, async () => {
      const stopped = compiler().compile('c1');
      assert.ok(stopped.warnings.some((w) => w.includes(`unit ${UNIT} is not running`)));
      unitGroup.start();
      const listed = await load('c1', NS.c1);
      const unit = UNIT.replace(/\./g, '\\.');
      assert.match(listed, backend === 'nft' ? new RegExp(`socket cgroupv2 level 2 "${mount === '' ? '' : `${mount}/`}system.slice/${unit}"`) : new RegExp(`-m cgroup --path "?system\\.slice/${unit}"?`));
      assert.equal(connect(NS.c1, '10.77.1.1', 9090, join(unitGroup.dir, 'cgroup.procs')), 'open');
      assert.equal(connect(NS.c1, '10.77.1.1', 9090), 'timeout');
      const accepted = backend === 'nft' ? /counter packets 1 bytes \d+ accept comment "Agent to the server"/ : /^\[1:\d+\] -A PALISADE-\S+ .*--comment "Agent to the server" -j ACCEPT$/m;
      assert.match(backend === 'nft' ? String(inNs(NS.c1, 'nft', ['list', 'chain', 'inet', 'palisade', `service_${UNIT}`]).stdout) : listing(NS.c1), accepted);
    });
  });
}

suite('nft');
suite('iptables');
