/**
 * Issue 16 on the real kernel: a host namespace with Docker's (or kube-proxy's) iptables rules loaded as the runtime
 * writes them, a container (pod) namespace behind its bridge, a client namespace holding an address the policy
 * allows and one it does not. Before palisade, a published port is open to everyone (the bug); after `apply`, on
 * both backends, it obeys the inbound rules on its published port, the container's outbound traffic follows the
 * `from:` rules, and the runtime's rules are unchanged after apply and after `stop`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addContainer, loadRuntimeNftables, loadRuntimeRules } from '../../src/lab/containers.ts';
import { dockerIptablesSave, kubeProxyIptablesSave, kubeProxyNftables } from '../../src/lab/container-rules.ts';
import { runCli } from '../helpers/cli.ts';
import { run, skipUnlessRoot } from '../helpers/netns.ts';

/** nodeport: kube-proxy in iptables mode; nodeport-nft: in nftables mode. */
type Runtime = 'docker' | 'nodeport' | 'nodeport-nft';

interface Setup {
  host: string;
  client: string;
  container: string;
  hostIp: string;
  apiIp: string;
  strangerIp: string;
  dir: string;
  servers: ChildProcess[];
}

const POLICY = `settings:
  input_drop: true
  failsafe:
    in: [{ protocol: tcp, dport: 22 }]
    out: [{ protocol: udp, dport: 53 }]
  containers: { egress_drop: true }
rules:
  Published from the API:
    on: roles:docker
    direction: in
    protocol: tcp
    source: roles:api
    dport: [5432, 8080, 30080]
  Containers to the API:
    on: roles:docker
    direction: out
    from: containers
    protocol: tcp
    destination: roles:api
    dport: 9090
`;

/** Node one-liners: a TCP server answering "ok", and a client that prints yes when it reads from the server. */
function serve(ns: string, ports: number[], servers: ChildProcess[]): Promise<void> {
  const code = `const net=require('net');let n=0;for(const p of ${JSON.stringify(ports)})net.createServer(s=>s.end('ok')).listen(p,'0.0.0.0',()=>{if(++n===${ports.length})console.log('ready')});`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (c) => reject(new Error(`server in ${ns} exited ${c}`)));
  });
}

function connects(ns: string, to: string, port: number, from?: string): Promise<boolean> {
  const local = from === undefined ? '' : `,localAddress:'${from}'`;
  const code = `const s=require('net').connect({host:'${to}',port:${port}${local},timeout:1500});s.on('data',()=>{console.log('yes');process.exit(0)});s.on('timeout',()=>{console.log('no');process.exit(0)});s.on('error',()=>{console.log('no');process.exit(0)});`;
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => resolve(out.includes('yes')));
  });
}

/** The iptables tables as iptables-save prints them, without counters and the header and footer comments. */
const iptablesSave = (ns: string): string =>
  run('ip', ['netns', 'exec', ns, 'iptables-save'])
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, '[0:0]'))
    .join('\n');

/** The runtime's rules: its iptables tables, or kube-proxy's nftables table when it runs in that mode. */
const saved = (ns: string, runtime: Runtime): string =>
  runtime === 'nodeport-nft' ? run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'kube-proxy']) : iptablesSave(ns);
/** What is left of saved() once palisade's own chains, rules and the one jump to them are taken out. */
const withoutPalisade = (text: string): string =>
  text
    .split('\n')
    .filter((l) => !/PALISADE-/.test(l))
    .join('\n');

function useSetup(runtime: Runtime): Setup {
  const tag = randomBytes(3).toString('hex');
  const subnet = randomInt(2, 250);
  const s: Setup = {
    host: `pal-ct-${tag}-h`,
    client: `pal-ct-${tag}-c`,
    container: `pal-ct-${tag}-k`,
    hostIp: `10.233.${subnet}.1`,
    apiIp: `10.233.${subnet}.2`,
    strangerIp: `10.233.${subnet}.200`,
    dir: '',
    servers: [],
  };
  before(async () => {
    if (skipUnlessRoot !== false) return;
    s.dir = mkdtempSync(join(tmpdir(), 'pal-ct-'));
    run('ip', ['netns', 'add', s.host]);
    run('ip', ['netns', 'add', s.client]);
    run('ip', ['link', 'add', 'vh', 'netns', s.host, 'type', 'veth', 'peer', 'name', 'vc', 'netns', s.client]);
    run('ip', ['-n', s.host, 'addr', 'add', `${s.hostIp}/24`, 'dev', 'vh']);
    for (const ip of [s.apiIp, s.strangerIp]) run('ip', ['-n', s.client, 'addr', 'add', `${ip}/24`, 'dev', 'vc']);
    for (const [ns, dev] of [[s.host, 'vh'], [s.client, 'vc']] as const) {
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    if (runtime === 'docker') {
      await addContainer(s.host, { namespace: s.container, bridge: 'docker0', gateway: '172.17.0.1/16', address: '172.17.0.2/16' }, 'vethd0c1');
      await loadRuntimeRules(
        s.host,
        dockerIptablesSave([
          {
            bridge: 'docker0',
            subnet: '172.17.0.0/16',
            containers: [{ address: '172.17.0.2', ports: [{ protocol: 'tcp', host: 5432, container: 5432 }, { protocol: 'tcp', host: 8080, container: 80 }] }],
          },
        ]),
      );
      await serve(s.container, [5432, 80], s.servers);
    } else {
      await addContainer(s.host, { namespace: s.container, bridge: 'cni0', gateway: '10.244.0.1/24', address: '10.244.0.5/24' }, 'vethpod1');
      const services = [{ name: 'default/web:http', protocol: 'tcp' as const, nodePort: 30080, clusterIp: '10.96.0.10', port: 80, endpoint: { address: '10.244.0.5', port: 8080 } }];
      if (runtime === 'nodeport') await loadRuntimeRules(s.host, kubeProxyIptablesSave(services));
      else await loadRuntimeNftables(s.host, kubeProxyNftables(services));
      /* kube-proxy masquerades only service traffic: the pod network is routed to the node, as on a flat network. */
      run('ip', ['-n', s.client, 'route', 'add', '10.244.0.0/24', 'via', s.hostIp]);
      await serve(s.container, [8080], s.servers);
    }
    await serve(s.client, [9090], s.servers);
    writeFileSync(join(s.dir, 'policy.yaml'), POLICY);
    writeFileSync(
      join(s.dir, 'inventory.yaml'),
      `hosts:\n  - name: srv\n    environment: test\n    roles: [docker]\n    interfaces: { vh: [${s.hostIp}] }\n    lan: vh\n    users: { root: 0 }\n` +
        `  - name: api\n    environment: test\n    roles: [api]\n    interfaces: { vc: [${s.apiIp}] }\n    lan: vc\n    users: { root: 0 }\n`,
    );
    delete process.env.SSH_CONNECTION;
  });
  after(() => {
    for (const server of s.servers) server.kill('SIGKILL');
    if (skipUnlessRoot !== false) return;
    for (const ns of [s.container, s.client, s.host]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(s.dir, { recursive: true, force: true });
  });
  return s;
}

const cli = (s: Setup, command: string, ...extra: string[]) =>
  runCli([
    command,
    ...(command === 'apply' ? ['--host', 'srv', '--policy', join(s.dir, 'policy.yaml'), '--inventory', join(s.dir, 'inventory.yaml'), '--no-resolve'] : []),
    '--state-dir',
    join(s.dir, 'state'),
    '--netns',
    s.host,
    ...extra,
  ]);

for (const runtime of ['docker', 'nodeport', 'nodeport-nft'] as const) {
  for (const backend of ['nft', 'iptables'] as const) {
    const what = runtime === 'docker' ? 'Docker published ports' : `kube-proxy NodePorts (${runtime === 'nodeport' ? 'iptables' : 'nftables'} mode)`;
    describe(`${what} obey the host's policy (${backend})`, { skip: skipUnlessRoot }, () => {
      const s = useSetup(runtime);
      const port = runtime === 'docker' ? 5432 : 30080;
      let before = '';

      it('without palisade the published port is open to every source (the bug)', async () => {
        before = saved(s.host, runtime);
        assert.equal(await connects(s.client, s.hostIp, port, s.strangerIp), true);
      });

      it('after apply: accepted from the source the policy allows, dropped from another', async () => {
        const r = await cli(s, 'apply', '--backend', backend);
        assert.equal(r.code, 0, r.stderr);
        const found = { docker: /Docker found \(docker0, .*\): ports it publishes follow/, nodeport: /kube-proxy \(iptables mode\) found: NodePorts follow/, 'nodeport-nft': /kube-proxy \(nftables mode\) found/ };
        assert.match(r.stderr, found[runtime]);
        assert.equal(await connects(s.client, s.hostIp, port, s.apiIp), true, 'the API host reaches the published port');
        assert.equal(await connects(s.client, s.hostIp, port, s.strangerIp), false, 'a stranger no longer does');
        if (runtime === 'docker') {
          assert.equal(await connects(s.client, s.hostIp, 8080, s.apiIp), true, 'published 8080 -> container 80, allowed on 8080');
          assert.equal(await connects(s.client, s.hostIp, 8080, s.strangerIp), false);
        }
      });

      it("the container's own outbound traffic follows the from: rules", async () => {
        assert.equal(await connects(s.container, s.apiIp, 9090), true, 'containers to the API on 9090: allowed');
        assert.equal(await connects(s.container, s.strangerIp, 9090), false, 'elsewhere: egress_drop');
      });

      it("the runtime's rules are unchanged after apply; palisade's only hook is one jump", () => {
        const now = saved(s.host, runtime);
        assert.equal(withoutPalisade(now), before);
        if (backend === 'nft') assert.equal(now, before, "the nft backend adds nothing to the runtime's tables");
        else {
          const hook = runtime === 'docker' ? 'DOCKER-USER' : 'FORWARD';
          assert.deepEqual(
            iptablesSave(s.host).split('\n').filter((l) => /-j PALISADE-FORWARD$/.test(l)),
            [`-A ${hook} -j PALISADE-FORWARD`],
            'jumped to from DOCKER-USER when Docker has it, else from FORWARD',
          );
        }
      });

      it('after stop the runtime\'s rules are exactly as before, and the port is open again', async () => {
        const r = await cli(s, 'stop');
        assert.equal(r.code, 0, r.stderr);
        assert.equal(saved(s.host, runtime), before);
        assert.equal(await connects(s.client, s.hostIp, port, s.strangerIp), true);
      });
    });
  }
}
