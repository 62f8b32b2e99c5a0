/** Which container runtimes apply reports, from the facts of a host's kernel. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeNotes } from '../../src/kernel/containers.ts';

const none = { links: ['lo', 'eth0'], chains: ['INPUT', 'FORWARD', 'OUTPUT'], nftTables: ['inet palisade'] };

test('a plain host: nothing to say', () => {
  assert.deepEqual(runtimeNotes(none, true), []);
});

test('Docker and kube-proxy: covered when enforced, said to bypass the rules when containers are off', () => {
  const docker = { ...none, links: [...none.links, 'docker0', 'br-0a1b2c3d4e5f'], chains: [...none.chains, 'DOCKER', 'DOCKER-USER'] };
  assert.deepEqual(runtimeNotes(docker, true), ["containers: Docker found (docker0, DOCKER, DOCKER-USER): ports it publishes follow this host's inbound rules"]);
  assert.match(runtimeNotes(docker, false)[0] ?? '', /settings\.containers is off: ports it publishes bypass/);
  assert.match(runtimeNotes({ ...none, chains: ['KUBE-NODEPORTS'] }, true)[0] ?? '', /kube-proxy \(iptables mode\) found: NodePorts follow/);
  assert.match(runtimeNotes({ ...none, nftTables: ['ip kube-proxy', 'ip6 kube-proxy'] }, true)[0] ?? '', /kube-proxy \(nftables mode\)/);
});

test('Calico and Cilium: said, not fought', () => {
  const calico = runtimeNotes({ ...none, links: ['cali12345abcdef', 'tunl0'], chains: ['cali-FORWARD', 'cali-INPUT'] }, true);
  assert.equal(calico.length, 1);
  assert.match(calico[0] ?? '', /Calico found \(cali12345abcdef, cali-FORWARD, cali-INPUT\): it manages forwarding/);
  const cilium = runtimeNotes({ ...none, links: ['cilium_host', 'cilium_net'], chains: ['CILIUM_FORWARD'] }, true);
  assert.match(cilium[0] ?? '', /Cilium found .*eBPF before netfilter/);
});
