/**
 * The lab with containers: `lab container` puts a Docker container and a NodePort pod behind lab hosts with the
 * runtimes' rules, `lab published` probes every published port from every other host and compares with
 * `explain --dnat`, on both backends; `lab down` removes the container namespaces with the lab.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { runCli } from '../helpers/cli.ts';
import { uniqueLab } from '../helpers/lab.ts';
import { skipUnlessRoot } from '../helpers/netns.ts';

const host = (name: string, role: string, ip: string): string =>
  `  - name: ${name}\n    environment: test\n    roles: [${role}]\n    interfaces: { eth0: [${ip}] }\n    lan: eth0\n    users: { root: 0 }\n`;

const POLICY = `rules:
  Published from the API:
    on: roles:docker OR roles:node
    direction: in
    protocol: tcp
    source: roles:api
    dport: [5432, 8080, 30080]
`;

for (const backend of ['nft', 'iptables'] as const) {
  describe(`lab container and lab published (${backend})`, { skip: skipUnlessRoot }, () => {
    const lab = uniqueLab('ct');
    const net = randomInt(2, 250);
    let dir = '';
    const files = (): string[] => ['--policy', join(dir, 'policy.yaml'), '--inventory', join(dir, 'inventory.yaml'), '--no-resolve', '--lab', lab];

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'pal-labct-'));
      writeFileSync(
        join(dir, 'inventory.yaml'),
        `hosts:\n${host('docker-1', 'docker', `10.241.${net}.10`)}${host('node-1', 'node', `10.241.${net}.11`)}${host('api-1', 'api', `10.241.${net}.20`)}${host('web-1', 'web', `10.241.${net}.30`)}`,
      );
      writeFileSync(join(dir, 'policy.yaml'), POLICY);
    });
    after(async () => {
      await runCli(['lab', 'down', '--lab', lab]);
      rmSync(dir, { recursive: true, force: true });
    });

    it('probes published ports like any other: the allowed source gets through, the others do not, as explain says', async () => {
      for (const args of [
        ['lab', 'up', '--inventory', join(dir, 'inventory.yaml'), '--lab', lab],
        ['lab', 'apply', ...files(), '--backend', backend],
        ['lab', 'container', '--lab', lab, '--host', 'docker-1', '--publish', '5432', '8080:80'],
        ['lab', 'container', '--lab', lab, '--host', 'node-1', '--runtime', 'nodeport', '--publish', '30080:8080'],
      ]) {
        const r = await runCli(args);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      }
      const r = await runCli(['lab', 'published', ...files(), '--format', 'json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const { results } = JSON.parse(r.stdout) as { results: Array<{ source: string; destination: string; port: number; outcome: string; expected: boolean; mismatch: boolean }> };
      const cell = (source: string, destination: string, port: number) => results.find((x) => x.source === source && x.destination === destination && x.port === port);
      assert.equal(results.length, 3 * 2 + 3 * 1);
      assert.equal(cell('api-1', 'docker-1', 5432)?.outcome, 'passed');
      assert.equal(cell('api-1', 'docker-1', 8080)?.outcome, 'passed');
      assert.equal(cell('api-1', 'node-1', 30080)?.outcome, 'passed');
      for (const [source, destination, port] of [['web-1', 'docker-1', 5432], ['web-1', 'node-1', 30080], ['node-1', 'docker-1', 8080]] as const) {
        assert.equal(cell(source, destination, port)?.expected, false);
        assert.equal(cell(source, destination, port)?.outcome, 'timeout', `${source} -> ${destination}:${port}`);
      }
      assert.ok(results.every((x) => !x.mismatch));
    });

    it('refuses a second container on a host, and lab down removes the container namespaces', async () => {
      const again = await runCli(['lab', 'container', '--lab', lab, '--host', 'docker-1', '--publish', '1234']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already has a container/);
      const bad = await runCli(['lab', 'container', '--lab', lab, '--host', 'web-1', '--publish', '70000']);
      assert.equal(bad.code, 2);
      const down = await runCli(['lab', 'down', '--lab', lab]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(existsSync(`/var/run/netns/pal-${lab}-0-c`), false);
    });
  });
}
