/**
 * The iptables backend is all or nothing across ipsets, IPv4 and IPv6: a change killed -9 at every kernel tool
 * call (before the call, or while it runs; of consecutive reads, before the first) leaves a kernel that the next backend call (what apply, restore and
 * status do first) brings back to the old or the new ruleset, never a mix, with no staging sets left; a tool
 * failing at any call leaves the old ruleset. Real tools in a throwaway network namespace; the kill is placed by
 * shims of the tools put first on the changer's PATH.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ruleset } from '../../src/compile/ir.ts';
import { IptablesBackend } from '../../src/kernel/iptables.ts';
import { clearJournal, journalPath } from '../../src/kernel/journal.ts';
import { execIn, namespaceName, run, skipUnlessRoot as skip } from '../helpers/netns.ts';
import { tempDir } from '../helpers/tmp.ts';
import { fixture } from '../render/fixture.ts';

const TOOLS = ['ipset', 'iptables-save', 'ip6tables-save', 'iptables-restore', 'ip6tables-restore'];
const CHANGER = join(import.meta.dirname, 'iptables-changer.ts');
const address = (i: number): string => `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;

/** v2 differs from v1 in every part: sets added, removed and refilled, IPv4 and IPv6 rules, a nat rule. */
function v2(): Ruleset {
  const rs = fixture();
  rs.sets = rs.sets.filter((s) => s.name !== 'pal4_empty00000000');
  rs.sets.push({ name: 'pal4_new0000000000', family: 4, elements: ['10.9.9.9'], interval: false, definition: 'new' });
  rs.sets.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const set of rs.sets) {
    if (set.name === 'pal4_web0000000000') set.elements = Array.from({ length: 500 }, (_, i) => address(i));
    if (set.name === 'pal6_web0000000000') set.elements = ['2001:db8::13'];
  }
  const input = rs.chains[0] as Ruleset['chains'][number];
  input.rules = input.rules.filter((r) => r.comment !== 'Nobody').map((r) => (r.comment === 'Web' ? { ...r, comment: 'Web v2' } : r));
  input.rules.splice(5, 0, { matches: [{ kind: 'saddr', set: 'pal4_new0000000000', family: 4 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: [{ from: 7000, to: 7000 }] }], verdict: { kind: 'accept' }, origin: { kind: 'rule', rule: 'New' }, comment: 'New' });
  rs.rawIptables = rs.rawIptables.filter((r) => r.name !== 'Redirect');
  return rs;
}

/** v1 with only set members changed: 2,000 added, one removed. */
function v1members(): Ruleset {
  const rs = fixture();
  const web = rs.sets.find((s) => s.name === 'pal4_web0000000000') as Ruleset['sets'][number];
  web.elements = ['10.0.1.12', ...Array.from({ length: 2000 }, (_, i) => address(i))];
  return rs;
}

describe('iptables backend: all or nothing under kill -9 and failures at every step', { skip }, () => {
  const ns = namespaceName('pal-kill');
  const inNs = execIn(ns);
  const dir = tempDir('pal-kill-');
  const shims = join(dir, 'bin');
  const backend = new IptablesBackend({ netns: ns });
  const files = { v1: join(dir, 'v1.json'), v2: join(dir, 'v2.json'), members: join(dir, 'members.json') };

  /** palisade's part of the kernel, read with the tools alone (the backend would settle it first). */
  const fingerprint = (): string => {
    const tables = [
      ...['filter', 'nat', 'mangle', 'raw'].map((t) => inNs('iptables-save', ['-t', t])),
      inNs('ip6tables-save', ['-t', 'filter']),
    ].flatMap((text) => text.split('\n').filter((l) => l.includes('PALISADE')).map((l) => l.replace(/\[\d+:\d+\]/g, '')));
    const sets = inNs('ipset', ['save'])
      .split('\n')
      .filter((l) => /^(create|add) pal/.test(l))
      .map((l) => l.replace(/^(create \S+ \S+ family \S+).*/, '$1'))
      .sort();
    return [...tables, ...sets].join('\n');
  };
  const staging = (): string[] => inNs('ipset', ['list', '-n']).split('\n').filter((n) => n.startsWith('paltmp_'));
  const control = (name: string, value: string): void => writeFileSync(join(shims, name), value);
  const log = (): string => readFileSync(join(shims, 'log'), 'utf8');

  let fpV1 = '';
  let fpV2 = '';
  let fpMembers = '';

  before(async () => {
    run('ip', ['netns', 'add', ns]);
    run('mkdir', ['-p', shims]);
    for (const tool of TOOLS) {
      const real = run('sh', ['-c', `command -v ${tool}`]).trim();
      const shim = join(shims, tool);
      writeFileSync(
        shim,
        `#!/bin/sh
d='${shims}'
n=$(( $(cat "$d/count") + 1 ))
echo "$n" > "$d/count"
echo "$n ${tool} $*" >> "$d/log"
if [ "$n" = "$(cat "$d/at")" ]; then
  mode=$(cat "$d/mode")
  [ "$mode" = fail ] && { echo "stopped $n" >> "$d/log"; echo "shim: failing on purpose" >&2; exit 1; }
  kill -9 "$(cat "$d/victim")"
  [ "$mode" = before ] && { echo "stopped $n" >> "$d/log"; exit 1; }
  ${real} "$@"; rc=$?
  echo "stopped $n" >> "$d/log"
  exit $rc
fi
exec ${real} "$@"
`,
      );
      chmodSync(shim, 0o755);
    }
    writeFileSync(files.v1, JSON.stringify(fixture()));
    writeFileSync(files.v2, JSON.stringify(v2()));
    writeFileSync(files.members, JSON.stringify(v1members()));
    await backend.load(v2());
    fpV2 = fingerprint();
    await backend.load(v1members());
    fpMembers = fingerprint();
    await backend.load(fixture());
    fpV1 = fingerprint();
    assert.ok(fpV1 !== fpV2 && fpV1 !== fpMembers);
  });

  after(async () => {
    spare?.child.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', ns]);
    await clearJournal({ netns: ns });
  });

  interface Changer {
    child: ChildProcess;
    args: string;
    stderr: () => string;
    closed: Promise<number | null>;
  }
  /** The next changer, started ahead (it waits for its stdin to close): its start-up overlaps the previous trial. */
  let spare: Changer | null = null;
  const startChanger = (args: string[]): Changer => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHANGER, ns, ...args], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, PATH: `${shims}:${process.env.PATH ?? ''}` },
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return { child, args: args.join(' '), stderr: () => stderr, closed };
  };

  /** Runs the changer with the shims, stopping it at tool call `at` (0: never); returns its exit code. */
  async function change(args: string[], at: number, mode: 'before' | 'during' | 'fail'): Promise<number | null> {
    control('count', '0');
    control('log', '');
    control('at', String(at));
    control('mode', mode);
    if (spare !== null && spare.args !== args.join(' ')) spare.child.kill('SIGKILL');
    const changer = spare !== null && spare.args === args.join(' ') ? spare : startChanger(args);
    spare = startChanger(args);
    control('victim', String(changer.child.pid));
    changer.child.stdin?.end();
    const code = await changer.closed;
    if (at > 0) {
      const end = Date.now() + 20_000;
      while (!log().includes(`stopped ${at}\n`) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.ok(log().includes(`stopped ${at}\n`), `the shim stopped call ${at}:\n${log()}\n${changer.stderr()}`);
    } else assert.equal(code, 0, changer.stderr());
    return code;
  }

  /** Every tool call of the change, numbered from 1, with whether it changes the kernel. */
  async function calls(args: string[]): Promise<Array<{ n: number; mutates: boolean; line: string }>> {
    await change(args, 0, 'before');
    return log()
      .trim()
      .split('\n')
      .map((line, i) => ({ n: i + 1, line, mutates: !/^\d+ (ipset save|ip6?tables-save)/.test(line) }));
  }

  async function everyStep(args: string[], old: string, next: string, reset: () => Promise<void>): Promise<number> {
    await reset();
    const steps = await calls(args);
    assert.equal(fingerprint(), next, 'an uninterrupted change loads the new ruleset');
    let mixed = 0;
    for (const step of steps) {
      /* Killing before a read that follows a read leaves the kernel as killing before the first of them does. */
      const boundary = step.n === 1 || steps[step.n - 2]?.mutates === true;
      for (const mode of step.mutates ? (['before', 'during', 'fail'] as const) : boundary ? (['before'] as const) : []) {
        await reset();
        const code = await change(args, step.n, mode);
        const where = `${mode} call ${step.line}`;
        if (mode === 'fail') {
          assert.notEqual(code, 0, `${where}: the change reports the failure`);
          assert.equal(fingerprint(), old, `${where}: a failed change leaves the old ruleset`);
          assert.equal(existsSync(journalPath({ netns: ns })), false, `${where}: no journal left`);
          assert.deepEqual(staging(), [], `${where}: no staging sets left`);
          continue;
        }
        const raw = fingerprint();
        if (raw !== old && raw !== next) mixed += 1;
        await backend.listing();
        const settled = fingerprint();
        assert.ok(settled === old || settled === next, `${where}: after the next start the kernel holds the old or the new ruleset`);
        assert.deepEqual(staging(), [], `${where}: no staging sets left`);
        assert.equal(existsSync(journalPath({ netns: ns })), false, `${where}: the journal is cleared`);
      }
    }
    return mixed;
  }

  it('a full load (v1 to v2), killed or failing at each tool call', async () => {
    const mixed = await everyStep(['load', files.v2], fpV1, fpV2, async () => {
      await backend.load(fixture());
      assert.equal(fingerprint(), fpV1);
    });
    assert.ok(mixed > 0, 'some kills left a mixed kernel before the next start (else the test proves nothing)');
  });

  it('a membership update (2,000 elements), killed or failing at each tool call', async () => {
    await everyStep(['update', files.v1, files.members], fpV1, fpMembers, async () => {
      await backend.load(fixture());
      assert.equal(fingerprint(), fpV1);
    });
  });
});
