/**
 * The runtimes' rules the lab loads: byte for byte the fixtures (a Docker host with the default bridge and a
 * user-defined network, a kube-proxy node with a NodePort, as iptables-save prints them), accepted by the real
 * iptables-restore, and nothing hostile gets into them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dockerIptablesSave, kubeProxyIptablesSave, type DockerNetwork } from '../../src/lab/container-rules.ts';
import { LabError } from '../../src/lab/state.ts';
import { inNamespace, skipUnlessRoot } from '../helpers/netns.ts';

const NETWORKS: DockerNetwork[] = [
  { bridge: 'docker0', subnet: '172.17.0.0/16', containers: [{ address: '172.17.0.2', ports: [{ protocol: 'tcp', host: 5432, container: 5432 }] }] },
  {
    bridge: 'br-3f1c2a9b8d7e',
    subnet: '172.18.0.0/16',
    containers: [
      { address: '172.18.0.2', ports: [{ protocol: 'tcp', host: 8080, container: 80 }, { protocol: 'udp', host: 5353, container: 53 }] },
      { address: '172.18.0.3', ports: [] },
    ],
  },
];
const SERVICES = [{ name: 'default/web:http', protocol: 'tcp' as const, nodePort: 30080, clusterIp: '10.96.0.10', port: 80, endpoint: { address: '10.244.0.5', port: 8080 } }];
const fixture = (name: string): string =>
  readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');

test('the rules are the fixtures, as iptables-save prints a Docker host and a kube-proxy node', () => {
  assert.equal(dockerIptablesSave(NETWORKS), fixture('docker-host.iptables-save'));
  assert.equal(kubeProxyIptablesSave(SERVICES), fixture('kube-proxy-node.iptables-save'));
});

test('iptables-restore takes both fixtures as they are', { skip: skipUnlessRoot }, () => {
  for (const name of ['docker-host.iptables-save', 'kube-proxy-node.iptables-save']) {
    inNamespace('pal-ctr', (exec) => {
      exec('iptables-restore', [], readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8'));
      assert.match(exec('iptables-save', ['-t', 'nat']), /-j DNAT --to-destination (172\.17\.0\.2:5432|10\.244\.0\.5:8080)/);
    });
  }
});

test('abuse: names and addresses that would inject iptables-restore lines are refused', () => {
  const network = (patch: Partial<DockerNetwork>): DockerNetwork[] => [{ ...(NETWORKS[0] as DockerNetwork), ...patch }];
  for (const bad of [network({ bridge: 'docker0\n-A INPUT -j ACCEPT' }), network({ subnet: '0.0.0.0/0 -j ACCEPT' }), network({ containers: [{ address: '172.17.0.2 -j ACCEPT', ports: [] }] })]) {
    assert.throws(() => dockerIptablesSave(bad), LabError);
  }
  assert.throws(() => dockerIptablesSave(network({ containers: [{ address: '172.17.0.2', ports: [{ protocol: 'tcp', host: 0, container: 80 }] }] })), LabError);
  assert.throws(() => kubeProxyIptablesSave([{ ...(SERVICES[0] as (typeof SERVICES)[0]), name: 'x" -j ACCEPT #' }]), LabError);
});
