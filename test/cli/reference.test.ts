/**
 * The reference in the repository stays true: docs/commands.md and man/palisade.1 are what the command line
 * says of itself (so every command and option is documented), every rule field and setting has its doc,
 * every link of the README and docs/ resolves inside the repository, and `palisade help`/`completion` work.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { RULE_FIELDS } from '../../src/policy/rule.ts';
import { SETTING_KEYS } from '../../src/policy/settings.ts';
import { runCli } from '../helpers/cli.ts';
import { referenceFiles } from '../helpers/reference.ts';

const ROOT = join(import.meta.dirname, '../..');
const DOCS = readdirSync(join(ROOT, 'docs')).filter((n) => n.endsWith('.md')).map((n) => `docs/${n}`);
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

describe('the reference', () => {
  it('docs/commands.md and man/palisade.1 describe every command and option as the CLI has them', async () => {
    for (const [path, expected] of Object.entries(await referenceFiles(ROOT))) {
      assert.ok(read(path) === expected, `${path} is not what the command line says of itself: run \`npm run docs\` and commit the result`);
    }
  });

  it('documents every rule field and every setting', () => {
    const policy = read('docs/policy.md');
    /* `from` is the containers' source field (docs/containers.md). */
    for (const field of RULE_FIELDS) assert.match(field === 'from' ? read('docs/containers.md') : policy, new RegExp(`\\b${field}:`), `rule field "${field}" is not in docs/policy.md`);
    const settings = read('docs/settings.md');
    for (const key of SETTING_KEYS) assert.ok(settings.includes(`| \`${key}`), `setting "${key}" is not in docs/settings.md's table`);
  });

  it('every link of the README and docs/ resolves inside the repository', () => {
    for (const page of ['README.md', ...DOCS]) {
      for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        assert.doesNotMatch(target as string, /^[a-z]+:/i, `${page} links outside the repository: ${target}`);
        const path = (target as string).split('#')[0] as string;
        if (path === '') continue;
        assert.ok(existsSync(join(ROOT, dirname(page), path)), `${page} links to ${target}, which does not exist`);
      }
    }
  });

  it('help prints a page, lists the topics, names a wrong one; completion for bash and zsh', async () => {
    const list = await runCli(['help']);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /Topics: .*\bcommands\b.*\bexit-codes\b.*\bpolicy\b.*\bsettings\b/);
    const page = await runCli(['help', 'settings']);
    assert.equal(page.stdout, read('docs/settings.md'));
    assert.equal((await runCli(['help', 'import'])).stdout, read('docs/adoption.md'));
    assert.match((await runCli(['help', 'lab'])).stdout, /Usage: palisade lab/);
    const wrong = await runCli(['help', 'polciy']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /no help topic or command "polciy" \(did you mean "policy"\?\)/);
    const bash = await runCli(['completion', 'bash']);
    assert.equal(bash.code, 0);
    const syntax = spawnSync('bash', ['-n'], { input: bash.stdout, encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
    const completed = spawnSync('bash', ['-c', `${bash.stdout}\nCOMP_WORDS=(palisade fleet init-a); COMP_CWORD=2; _palisade; echo "\${COMPREPLY[*]}"\nCOMP_WORDS=(palisade import --ver); COMP_CWORD=2; _palisade; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' });
    assert.equal(completed.stdout, 'init-auth\n--verify\n', completed.stderr);
    const zsh = await runCli(['completion', 'zsh']);
    assert.match(zsh.stdout, /^#compdef palisade\n/);
    assert.match(zsh.stdout, /'import:a Palisade policy from the rules a host runs today/);
    assert.equal((await runCli(['completion', 'fish'])).code, 2);
  });
});
