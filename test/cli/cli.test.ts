/**
 * The `palisade` CLI on the bundled example and on broken inputs: output, exit codes (0 ok, 1 invalid
 * input, 2 usage) and error messages with file:line:col and the rule name.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli } from '../helpers/cli.ts';
import { execIn, namespaceName, run, skipUnlessRoot } from '../helpers/netns.ts';
import { SMALL_INVENTORY } from '../helpers/compiler.ts';

const dir = mkdtempSync(join(tmpdir(), 'pal-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const inventory = file('inventory.yaml', SMALL_INVENTORY);

describe('palisade on the bundled example', () => {
  it('check passes and counts rules, raw rules and hosts', async () => {
    const r = await runCli(['check', '--no-resolve']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: 36 rules and 2 raw rules in 2 file\(s\), 18 hosts from .*examples\/shop\/inventory\.yaml/m);
  });

  it('compile prints an nft script with per-user chains and named sets', async () => {
    const r = await runCli(['compile', '--host', 'api-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^add table inet palisade\ndelete table inet palisade\ntable inet palisade \{/);
    assert.match(r.stdout, /chain user_app \{/);
    assert.match(r.stdout, /meta skuid 4200 counter jump user_app/);
    assert.match(r.stdout, /log prefix "DROP_PAL_OUT_app/);
    assert.match(r.stdout, /set pal4_[0-9a-f]{12} \{/);
  });

  it('compile --format iptables prints the three files with a header each', async () => {
    const r = await runCli(['compile', '--host', 'mongodb-shop-1', '--format', 'iptables']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.match(/^# ==> .* <==$/gm), ['# ==> ipset.restore <==', '# ==> rules.v4 <==', '# ==> rules.v6 <==']);
    assert.match(r.stdout, /-A PALISADE-INPUT .*--dport 27017/);
  });

  it('compile --format iptables --out writes the files', async () => {
    const out = join(dir, 'out');
    const r = await runCli(['compile', '--host', 'web-shop-1', '--format', 'iptables', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(join(out, 'rules.v4'), 'utf8'), /^\*filter$/m);
    assert.match(readFileSync(join(out, 'rules.v6'), 'utf8'), /^\*filter$/m);
    assert.match(readFileSync(join(out, 'ipset.restore'), 'utf8'), /^create pal4_/m);
  });

  it('compile --format json is the ruleset IR', async () => {
    const r = await runCli(['compile', '--host', 'lb-1', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const rs = JSON.parse(r.stdout) as { host: string; chains: Array<{ name: string }> };
    assert.equal(rs.host, 'lb-1');
    assert.deepEqual(rs.chains.map((c) => c.name), ['input', 'output', 'forward', 'published', 'containers', 'user_haproxy']);
  });

  it('compile of an unknown host is a usage error', async () => {
    const r = await runCli(['compile', '--host', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /host "nope" is not in the inventory/);
  });

  it('plan lists every host with rules and elements, also as JSON', async () => {
    const text = await runCli(['plan']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /mongodb-shop-1/);
    const json = await runCli(['plan', '--format', 'json']);
    const plan = JSON.parse(json.stdout) as { hosts: Array<{ host: string; rules: number; elements: number }> };
    assert.equal(plan.hosts.length, 18);
    for (const h of plan.hosts) assert.ok(h.rules > 0 && h.elements >= 0, JSON.stringify(h));
  });

  it('plan --against shows what a changed inventory does', async () => {
    const grown = file('inventory2.yaml', `${SMALL_INVENTORY}  - name: web-3\n    environment: production\n    roles: [web]\n    tags: [shop]\n    interfaces: { eth0: [10.0.1.13] }\n    lan: eth0\n`);
    const policy = file('policy-small.yaml', 'rules:\n  Web to db:\n    on: roles:mongodb\n    direction: in\n    protocol: tcp\n    source: roles:web AND SAMETAG\n    dport: 27017\n');
    const old = file('old.yaml', `policy: ${policy}\ninventory: ${inventory}\n`);
    const plan = await runCli(['plan', '--against', old, '--policy', policy, '--inventory', grown, '--format', 'json']);
    assert.equal(plan.code, 0, plan.stderr);
    const hosts = (JSON.parse(plan.stdout) as { hosts: Array<{ host: string; status: string }> }).hosts;
    assert.equal(hosts.find((h) => h.host === 'web-3')?.status, 'new');
    assert.equal(hosts.find((h) => h.host === 'db-1')?.status, 'membership-only');
    assert.equal(hosts.find((h) => h.host === 'mon-1')?.status, 'unchanged');
  });

  it('explain names the rule that allows a flow, on both ends', async () => {
    const r = await runCli(['explain', 'api-1', 'mongodb-shop-1', '27017', '--user', 'app']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /allowed/i);
    assert.match(r.stdout, /API to MongoDB/);
    assert.match(r.stdout, /MongoDB App Entry Point/);
  });

  it('explain says which default denies a flow across tags', async () => {
    const r = await runCli(['explain', 'api-1', 'mongodb-blog-1', '27017/tcp', '--user', 'app', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout) as { allowed: boolean };
    assert.equal(e.allowed, false);
  });

  it('explain --exit-code: 0 when allowed, 3 when denied', async () => {
    assert.equal((await runCli(['explain', 'api-1', 'mongodb-shop-1', '27017', '--user', 'app', '--exit-code'])).code, 0);
    assert.equal((await runCli(['explain', 'api-1', 'mongodb-blog-1', '27017', '--user', 'app', '--exit-code'])).code, 3);
  });

  it('explain of a bad port is a usage error', async () => {
    const r = await runCli(['explain', 'api-1', 'mongodb-shop-1', '99999']);
    assert.equal(r.code, 2);
  });

  it('every command has --help with examples', async () => {
    for (const command of ['check', 'compile', 'plan', 'explain']) {
      const r = await runCli([command, '--help']);
      assert.equal(r.code, 0, command);
      assert.match(r.stdout, /Examples:\n {2}\$ palisade /, command);
    }
  });

  it('an unknown command or option is a usage error', async () => {
    assert.equal((await runCli(['frobnicate'])).code, 2);
    assert.equal((await runCli(['check', '--polcy', 'x'])).code, 2);
  });
});

describe('palisade check on broken input', () => {
  it('reports every error of a policy with file:line:col and rule name, exit 1', async () => {
    const policy = file(
      'bad-policy.yaml',
      [
        'rules:',
        '  Mongo:',
        '    on: roles:mongodb',
        '    direction: in',
        '    protocol: tcp',
        '    source: roles:web AND',
        '    dprot: 27017',
        '  Web:',
        '    direction: in',
        '    protocol: tpc',
        '    source: 10.0.0.1/24',
        '    dport: 80',
        '',
      ].join('\n'),
    );
    const r = await runCli(['check', '--policy', policy, '--inventory', inventory]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad-policy\.yaml:6:\d+: error: rule "Mongo": .*/);
    assert.match(r.stderr, /bad-policy\.yaml:7:5: error: rule "Mongo": unknown field "dprot" \(did you mean "dport"\?\)/);
    assert.match(r.stderr, /bad-policy\.yaml:10:\d+: error: rule "Web": .*tpc/);
    assert.match(r.stderr, /bad-policy\.yaml:11:\d+: error: rule "Web": .*10\.0\.0\.0\/24/);
    assert.match(r.stderr, /error\(s\): nothing was changed/);
  });

  it('reports inventory errors naming the host', async () => {
    const bad = file('bad-inventory.yaml', 'hosts:\n  - name: evil\n    interfaces: { eth0: [0.0.0.0/0] }\n  - name: evil\n    interfaces: { eth0: [127.0.0.1] }\n');
    const policy = file('ok-policy.yaml', 'rules: {}\n');
    const r = await runCli(['check', '--policy', policy, '--inventory', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad-inventory\.yaml:3:\d+: error: host "evil": /);
    assert.match(r.stderr, /bad-inventory\.yaml:4:\d+: error: .*duplicate/i);
    assert.match(r.stderr, /bad-inventory\.yaml:5:\d+: error: host "evil": .*loopback/);
  });

  it('a missing file is an input error naming it', async () => {
    const r = await runCli(['check', '--policy', join(dir, 'missing.yaml'), '--inventory', inventory]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing\.yaml/);
  });
});

/** A tmpfs of our own (read-only, or tiny), unmounted whatever happens. */
async function onTmpfs(options: string, body: (mount: string) => Promise<void>): Promise<void> {
  const mount = mkdtempSync(join(dir, 'tmpfs-'));
  run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', mount]);
  try {
    await body(mount);
  } finally {
    spawnSync('umount', [mount]);
  }
}

const noTrace = (stderr: string): void => {
  assert.doesNotMatch(stderr, /internal error|\n\s+at /);
};

describe("the user's own files: a clear error naming the path, never a trace (issue 10 finding 2)", () => {
  it('plan --against a path that does not exist', async () => {
    const missing = join(dir, 'no-such-release');
    const r = await runCli(['plan', '--no-resolve', '--against', missing]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error: cannot read ${missing}: no such file or directory (ENOENT)\nnothing was changed\n`);
  });

  it('compile --out below a file', async () => {
    const blocker = file('blocker', '');
    const r = await runCli(['compile', '--host', 'web-shop-1', '--out', join(blocker, 'out')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^error: cannot create the directory ${blocker}/out: .*\\((ENOTDIR|EEXIST)\\)\nnothing was changed\n$`));
  });

  it('compile --out on a read-only file system (EROFS)', { skip: skipUnlessRoot }, async () => {
    await onTmpfs('ro,size=64k', async (mount) => {
      const r = await runCli(['compile', '--host', 'web-shop-1', '--format', 'iptables', '--out', mount]);
      assert.equal(r.code, 1);
      noTrace(r.stderr);
      assert.match(r.stderr, new RegExp(`^error: cannot write ${mount}/ipset.restore: read-only file system \\(EROFS\\)\nnothing was changed\n$`));
    });
  });

  it('compile --out on a full file system (ENOSPC): the files written so far are named, no false "nothing was changed"', { skip: skipUnlessRoot }, async () => {
    await onTmpfs('size=4k', async (mount) => {
      const r = await runCli(['compile', '--host', 'web-shop-1', '--format', 'iptables', '--out', mount]);
      assert.equal(r.code, 1);
      noTrace(r.stderr);
      assert.match(r.stderr, /^error: cannot write .*: no space left on device \(ENOSPC\)\n/);
      const first = r.stderr.includes('ipset.restore');
      assert.equal(r.stderr.includes('nothing was changed'), first);
    });
  });
});

describe('compile --format nft is a complete, idempotent script', () => {
  it('loaded twice with nft -f, it leaves one copy of the table', { skip: skipUnlessRoot }, async () => {
    const r = await runCli(['compile', '--host', 'api-1', '--no-resolve']);
    assert.equal(r.code, 0, r.stderr);
    const ns = namespaceName('pal-compile');
    const dir = mkdtempSync(join(tmpdir(), 'pal-compile-'));
    try {
      run('ip', ['netns', 'add', ns]);
      const path = join(dir, 'api-1.nft');
      writeFileSync(path, r.stdout);
      const inNs = execIn(ns);
      inNs('nft', ['-f', path]);
      const once = inNs('nft', ['list', 'table', 'inet', 'palisade']);
      inNs('nft', ['-f', path]);
      assert.equal(inNs('nft', ['list', 'table', 'inet', 'palisade']), once);
      assert.deepEqual(inNs('nft', ['list', 'tables']).trim().split('\n'), ['table inet palisade']);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('check: queries that match no host, --strict, --format json', () => {
  const typo = file(
    'typo.yaml',
    'rules:\n  Web:\n    direction: in\n    protocol: tcp\n    source: [roles:webservers, roles:web AND SAMETAG]\n    dport: 80\n  Out:\n    direction: out\n    protocol: tcp\n    destination: roles:mongodb AND tags:nope\n    dport: 27017\n',
  );

  it('warns about every source and destination query that matches no host', async () => {
    const r = await runCli(['check', '--policy', typo, '--inventory', inventory, '--no-resolve']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /typo\.yaml:2:3: warning: rule "Web": source "roles:webservers" matches no host of the inventory/);
    assert.match(r.stderr, /typo\.yaml:7:3: warning: rule "Out": destination "roles:mongodb AND tags:nope" matches no host of the inventory/);
    assert.doesNotMatch(r.stderr, /SAMETAG" matches no host/);
  });

  it('--strict fails on warnings; --format json says the same for tools', async () => {
    const strict = await runCli(['check', '--strict', '--policy', typo, '--inventory', inventory, '--no-resolve']);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /error: rule "Web": source "roles:webservers" matches no host/);
    const json = await runCli(['check', '--strict', '--format', 'json', '--policy', typo, '--inventory', inventory, '--no-resolve']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout);
    assert.equal(report.ok, false);
    assert.equal(report.rules, 2);
    assert.ok(report.diagnostics.some((d: { rule?: string; line?: number }) => d.rule === 'Web' && d.line === 2));
    const broken = file('broken.yaml', 'rules:\n  R:\n    direction: sideways\n');
    const invalid = await runCli(['check', '--format', 'json', '--policy', broken, '--inventory', inventory, '--no-resolve']);
    assert.equal(invalid.code, 1);
    assert.equal(JSON.parse(invalid.stdout).ok, false);
    assert.ok(JSON.parse(invalid.stdout).diagnostics.some((d: { message: string }) => /"direction" must be one of in, out/.test(d.message)));
  });
});
