/**
 * Audit mode logs per flow, in the kernel: every flow the policy would drop gets its own log budget (nft: a bucket
 * per flow in a dynamic set; iptables: a hashlimit entry per flow), so a flood of new connections on one port
 * cannot hide another flow from the log. The buckets are the packet path's, never drift. That the NFLOG records
 * reach ulogd2 is proven by test/e2e/audit.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import type { BackendName } from '../../src/kernel/backend.ts';
import { backendFor } from '../../src/kernel/load.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import { run, skipUnlessRoot as skip } from '../helpers/netns.ts';

const PEER = 'test/e2e/fixtures/policy-v2-peer.mjs';
const FLOOD = 60;

for (const backend of ['nft', 'iptables'] as const satisfies readonly BackendName[]) {
  describe(`audit mode logs per flow in the kernel: ${backend}`, { skip }, () => {
    const id = randomBytes(3).toString('hex');
    const ns = { srv: `pam-s-${id}`, cli: `pam-c-${id}` };
    const link = { srv: `pams-${id}`, cli: `pamc-${id}` };
    const inventory = parseInventoryDocument(
      `hosts:\n  - { name: srv, roles: [server], interfaces: { ${link.srv}: [10.78.1.1] }, lan: ${link.srv} }\n  - { name: cli, roles: [client], interfaces: { ${link.cli}: [10.78.1.2] }, lan: ${link.cli} }\n`,
      'inventory.yaml',
    );
    const policy = parsePolicyFiles([
      {
        path: 'policy.yaml',
        text: 'settings: { mode: audit, input_drop: true, audit: { log_group: 9 } }\nrules:\n  Web:\n    on: roles:server\n    direction: in\n    protocol: tcp\n    source: roles:client\n    dport: 8080\n',
      },
    ]).policy;
    const kernel = backendFor(backend, { netns: ns.srv });
    let listener: ChildProcess | null = null;

    const inNs = (name: string, command: string, args: readonly string[]): string => {
      const r = spawnSync('nsenter', [`--net=/run/netns/${name}`, command, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    /** New connections from the client, each from its own source port: one flow (source, destination, tcp, port). */
    const connect = (port: number, times: number): void => {
      inNs(ns.cli, 'bash', ['-c', `for i in $(seq ${times}); do (exec 3<>/dev/tcp/10.78.1.1/${port}) 2>/dev/null; done`]);
    };

    before(async () => {
      for (const name of Object.values(ns)) run('ip', ['netns', 'add', name]);
      run('ip', ['link', 'add', link.srv, 'netns', ns.srv, 'type', 'veth', 'peer', 'name', link.cli, 'netns', ns.cli]);
      for (const [name, dev, address] of [[ns.srv, link.srv, '10.78.1.1/24'], [ns.cli, link.cli, '10.78.1.2/24']] as const) {
        run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
        run('ip', ['-n', name, 'addr', 'add', address, 'dev', dev]);
        run('ip', ['-n', name, 'link', 'set', dev, 'up']);
      }
      listener = spawn('nsenter', [`--net=/run/netns/${ns.srv}`, process.execPath, PEER, 'listen', '7001', '7002'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await once(listener.stdout as NodeJS.ReadableStream, 'data');
      await kernel.load(new FleetCompiler({ policy, inventory, names: new Map() }).compile('srv'));
    });

    after(() => {
      listener?.kill();
      for (const name of Object.values(ns)) spawnSync('ip', ['netns', 'del', name]);
    });

    it('a flood on one port and a single connection on another are two flows, each with its own budget; never drift', async () => {
      const before = await kernel.listing();
      connect(7001, FLOOD);
      connect(7002, 1);
      if (backend === 'nft') {
        const listed = JSON.parse(inNs(ns.srv, 'nft', ['-j', 'list', 'set', 'inet', 'palisade', 'palm4_audit'])) as {
          nftables: Array<{ set?: { elem?: Array<{ elem: { val: { concat: [string, string, string, number] } } }> } }>;
        };
        const flows = (listed.nftables.find((item) => item.set !== undefined)?.set?.elem ?? []).map((e) => e.elem.val.concat.join(' '));
        assert.deepEqual(flows.sort(), ['10.78.1.2 10.78.1.1 tcp 7001', '10.78.1.2 10.78.1.1 tcp 7002']);
      } else {
        /* One line per flow: expiry, source:port -> destination:port, then the bucket's state. */
        const table = inNs(ns.srv, 'cat', ['/proc/net/ipt_hashlimit/palm4_audit']);
        const flows = table
          .trim()
          .split('\n')
          .map((line) => / (\S+):\d+->(\S+):(\d+) /.exec(line)?.slice(1).join(' '));
        assert.deepEqual(flows.sort(), ['10.78.1.2 10.78.1.1 7001', '10.78.1.2 10.78.1.1 7002'], table);
      }
      assert.equal(await kernel.listing(), before, 'the flows the packet path put in the meters are not drift');
    });
  });
}
