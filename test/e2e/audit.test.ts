/**
 * Observe before enforcing, for real: six hosts in network namespaces run the fleet policy in audit mode
 * while monitoring scrapes every host and backup pulls from the databases (flows the policy forgot).
 * ulogd2 collects the NFLOG records; `flows` shows them, `observe` sees them in conntrack, `impact` says
 * they would be cut, `suggest` writes rules that make `impact` clean; enforced with those rules, the
 * forgotten flows pass with real connections and the pairs nobody used stay closed; `trace` shows
 * which rule decided.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import { renderNft } from '../../src/render/nft.ts';
import { compilerFor } from '../helpers/compiler.ts';
import { runCli } from '../helpers/cli.ts';
import { run, skipUnlessRoot as skip } from '../helpers/netns.ts';
import { FIXTURES, useFleet } from './audit-fleet.ts';

const POLICY = join(FIXTURES, 'fleet-policy.yaml');
const INVENTORY = join(FIXTURES, 'fleet-inventory.yaml');
const SOURCES = ['--inventory', INVENTORY, '--no-resolve'];

/** Forgotten by the policy. */
const FORGOTTEN: Array<[string, string, number]> = [
  ...['web-1', 'web-2', 'db-1', 'db-2', 'backup-1'].map((h): [string, string, number] => ['mon-1', h, 9100]),
  ['backup-1', 'db-1', 873],
  ['backup-1', 'db-2', 873],
];
/** Allowed by the policy already. */
const ALLOWED: Array<[string, string, number]> = [['web-1', 'db-1', 5432]];
/** Never observed: must stay closed once enforced. */
const UNUSED: Array<[string, string, number]> = [
  ['web-1', 'db-2', 9100],
  ['db-1', 'web-1', 9100],
  ['mon-1', 'db-1', 873],
  ['backup-1', 'web-1', 873],
  ['web-1', 'db-2', 5432],
];

describe('audit mode end to end: flows, observe, impact, suggest, enforce, trace', { skip }, () => {
  const fleet = useFleet();
  const files = { flows: '', observed: '', suggested: '' };
  const text = readFileSync(POLICY, 'utf8');
  const inventoryText = readFileSync(INVENTORY, 'utf8');

  it('audit mode lets the forgotten flows through and ulogd2 records them; `flows` lists them', async () => {
    for (const host of fleet.hosts) fleet.load(host.name, renderNft(compilerFor(text, inventoryText).compile(host.name)));
    const logs = await fleet.startUlogd();
    await fleet.serve([80, 873, 5432, 9100]);
    const results = await Promise.all([...FORGOTTEN, ...ALLOWED].map(([s, d, p]) => fleet.connects(s, d, p)));
    assert.deepEqual(results, results.map(() => true), 'audit mode accepts everything');
    await new Promise((resolve) => setTimeout(resolve, 300));
    fleet.stopUlogd();
    const out = await runCli(['flows', ...logs.values(), '--format', 'json']);
    assert.equal(out.code, 0, out.stderr);
    files.flows = join(fleet.dir, 'flows.json');
    writeFileSync(files.flows, out.stdout);
    const flows = (JSON.parse(out.stdout) as { flows: Array<{ source: string; destination: string; port: number | null; protocol: string; prefixes: string[] }> }).flows;
    const seen = new Set(flows.filter((f) => f.protocol === 'tcp').map((f) => `${f.source}>${f.destination}:${f.port}`));
    for (const [s, d, p] of FORGOTTEN) assert.ok(seen.has(`${fleet.address(s)}>${fleet.address(d)}:${p}`), `${s} -> ${d}:${p} logged`);
    for (const [s, d, p] of ALLOWED) assert.ok(!seen.has(`${fleet.address(s)}>${fleet.address(d)}:${p}`), `${s} -> ${d}:${p} is allowed, not logged`);
    assert.ok(flows.filter((f) => f.protocol === 'tcp').every((f) => f.prefixes.join() === 'AUDIT_PAL_INPUT'));
  });

  it('`observe` in a namespace sees the connections in conntrack and the listening sockets', async () => {
    files.observed = join(fleet.dir, 'observed-db-1.json');
    const out = await runCli(['observe', '--netns', fleet.netns('db-1'), '--out', files.observed]);
    assert.equal(out.code, 0, out.stderr);
    const snapshot = JSON.parse(readFileSync(files.observed, 'utf8')) as { flows: Array<{ source: string; port: number }>; listening: Array<{ port: number }> };
    const conns = new Set(snapshot.flows.map((f) => `${f.source}:${f.port}`));
    for (const [s, p] of [['backup-1', 873], ['mon-1', 9100], ['web-1', 5432]] as const) assert.ok(conns.has(`${fleet.address(s)}:${p}`), `${s} -> db-1:${p} observed`);
    assert.deepEqual(snapshot.listening.map((l) => l.port), [80, 873, 5432, 9100]);
  });

  it('`impact` lists the forgotten flows as would-be-cut, grouped by roles, and exits 3', async () => {
    const out = await runCli(['impact', '--policy', POLICY, ...SOURCES, '--flows', files.flows, files.observed]);
    assert.equal(out.code, 3, out.stderr);
    for (const group of ['roles:monitoring -> roles:web tcp/9100', 'roles:monitoring -> roles:db tcp/9100', 'roles:monitoring -> roles:backup tcp/9100', 'roles:backup -> roles:db tcp/873']) {
      assert.ok(out.stdout.includes(group), `${group} in\n${out.stdout}`);
    }
    assert.doesNotMatch(out.stdout, /5432/);
  });

  it('`suggest` writes rules that `check` accepts and that make `impact` clean', async () => {
    files.suggested = join(fleet.dir, 'suggested.yaml');
    const out = await runCli(['suggest', '--policy', POLICY, ...SOURCES, '--flows', files.flows, files.observed, '--out', files.suggested]);
    assert.equal(out.code, 0, out.stderr);
    const suggested = readFileSync(files.suggested, 'utf8');
    assert.match(suggested, /on: "roles:db"\n    direction: in\n    protocol: tcp\n    source:\n      - "roles:backup"\n    dport: 873/);
    assert.equal((await runCli(['check', '--policy', POLICY, files.suggested, ...SOURCES])).code, 0);
    const clean = await runCli(['impact', '--policy', POLICY, files.suggested, ...SOURCES, '--flows', files.flows, files.observed]);
    assert.equal(clean.code, 0, clean.stdout);
  });

  it('enforced with the suggestions: forgotten flows connect, unused pairs stay closed (real connections and explain)', async () => {
    const enforced = text.replace('mode: audit', 'mode: enforce');
    const enforcedPath = join(fleet.dir, 'enforced.yaml');
    writeFileSync(enforcedPath, enforced);
    const withSuggestions = new FleetCompiler({
      policy: parsePolicyFiles([{ path: 'policy.yaml', text: enforced }, { path: 'suggested.yaml', text: readFileSync(files.suggested, 'utf8') }]).policy,
      inventory: parseInventoryDocument(inventoryText, 'inventory.yaml'),
      names: new Map(),
    });
    for (const host of fleet.hosts) fleet.load(host.name, renderNft(withSuggestions.compile(host.name)));
    const pass = await Promise.all([...FORGOTTEN, ...ALLOWED].map(([s, d, p]) => fleet.connects(s, d, p)));
    assert.deepEqual(pass, pass.map(() => true));
    const closed = await Promise.all(UNUSED.map(([s, d, p]) => fleet.connects(s, d, p)));
    assert.deepEqual(closed, closed.map(() => false));
    for (const [s, d, p] of UNUSED) {
      const out = await runCli(['explain', s, d, String(p), '--policy', enforcedPath, files.suggested, ...SOURCES]);
      assert.match(out.stdout, /DENIED/, `${s} -> ${d}:${p}`);
    }
  });

  it('`trace` shows the rule that decided a real packet, and removes its trace table', async () => {
    const traced = async (s: string, d: string, p: number): Promise<string> => {
      const out = await runCli(['trace', fleet.address(s), fleet.address(d), String(p), '--netns', fleet.netns(s), '--dst-netns', fleet.netns(d), '--timeout', '500']);
      assert.equal(out.code, 0, out.stderr);
      return out.stdout;
    };
    assert.match(await traced('backup-1', 'db-1', 873), /in in \S+: accepted in chain input by rule: .*comment "Observed tcp\/873 from roles:backup on roles:db"/);
    assert.match(await traced('web-1', 'db-2', 9100), /: timeout\n.*\n  in in \S+: dropped \(silently: the sender waits for its timeout\) in chain input by rule: drop/);
    for (const host of ['backup-1', 'db-1']) assert.doesNotMatch(run('ip', ['netns', 'exec', fleet.netns(host), 'nft', 'list', 'tables']), /palisade_trace/);
  });
});
