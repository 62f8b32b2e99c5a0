/**
 * Property-based fuzzing of what users feed Palisade (issue 10): generated policy and inventory documents
 * (plausible ones and hostile ones, see arbitraries.ts) and queries. For every input, `check` either refuses
 * with positioned errors, or it accepts and then every host compiles, renders (nft and iptables) and its nft
 * script passes `nft -c` in a network namespace; nothing ever throws anything but an InputError. A small
 * sample goes through the real CLI: exit 0, 1 or 2, never a stack trace.
 *
 * Seeded and bounded: PALISADE_FUZZ_SEED and PALISADE_FUZZ_RUNS change the seed and the number of documents
 * (a failure prints the seed and the path that reproduce it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkWorkspace } from '../../src/app/check.ts';
import { compileHost, loadWorkspace } from '../../src/app/workspace.ts';
import { InputError } from '../../src/diagnostics.ts';
import { nftLoadScript } from '../../src/kernel/nft.ts';
import { QuerySyntaxError } from '../../src/query/ast.ts';
import { formatQuery } from '../../src/query/format.ts';
import { parseQuery } from '../../src/query/parser.ts';
import { renderIptables } from '../../src/render/iptables.ts';
import { documents, hostileQuery, query, type Documents } from './arbitraries.ts';
import { namespaceName, skipUnlessRoot } from '../helpers/netns.ts';
import { tempDir } from '../helpers/tmp.ts';

const SEED = Number(process.env.PALISADE_FUZZ_SEED ?? 20261130);
const RUNS = Number(process.env.PALISADE_FUZZ_RUNS ?? 300);
const CLI_SAMPLE = 6;
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/palisade.js');

const dir = tempDir('palisade-fuzz-');

function writeDocuments(docs: Documents, into = dir): { policy: string; inventory: string } {
  const policy = join(into, 'policy.yaml');
  const inventory = join(into, `inventory.${docs.inventoryExt}`);
  writeFileSync(policy, docs.policy);
  writeFileSync(inventory, docs.inventory);
  return { policy, inventory };
}

/** Every error of a refusal points at a file and a line in it. */
function assertPositioned(refusal: InputError, files: readonly string[]): void {
  const errors = refusal.diagnostics.filter((d) => d.severity === 'error');
  assert.ok(errors.length > 0, `a refusal without an error: ${refusal.message}`);
  for (const d of errors) {
    assert.ok(d.file !== undefined && files.includes(d.file), `error without its file: ${JSON.stringify(d)}`);
    assert.ok(d.line !== undefined && d.line >= 1, `error without its line: ${JSON.stringify(d)}`);
  }
}

/** `check` in process; when it accepts, every host's nft script (null when it refuses). */
async function checkAndCompile(docs: Documents): Promise<string[] | null> {
  const files = writeDocuments(docs);
  let ws: Awaited<ReturnType<typeof loadWorkspace>>;
  try {
    ws = await loadWorkspace({ policy: [files.policy], inventory: files.inventory, resolve: false });
  } catch (cause) {
    if (!(cause instanceof InputError)) throw cause;
    assertPositioned(cause, [files.policy, files.inventory]);
    return null;
  }
  const { errors } = checkWorkspace(ws);
  if (errors.length > 0) {
    assertPositioned(new InputError(errors), [files.policy, files.inventory]);
    return null;
  }
  return ws.inventory.hosts.map((host) => {
    const rs = compileHost(ws, host.name);
    renderIptables(rs).toText();
    return nftLoadScript(rs);
  });
}

/** The inputs `nft -c` refused, checking many scripts per invocation and splitting only a batch that fails. */
function nftRefusals(ns: string, cases: ReadonlyArray<{ docs: Documents; scripts: string[] }>): Array<{ docs: Documents; stderr: string }> {
  if (cases.length === 0) return [];
  const result = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], { input: cases.flatMap((c) => c.scripts).join('\n'), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status === 0) return [];
  const [only] = cases;
  if (cases.length === 1 && only !== undefined) return [{ docs: only.docs, stderr: result.stderr }];
  const half = Math.ceil(cases.length / 2);
  return [...nftRefusals(ns, cases.slice(0, half)), ...nftRefusals(ns, cases.slice(half))];
}

test('queries: parsed, or refused with a column inside the text; the canonical text of what is parsed parses back to itself', () => {
  fc.assert(
    fc.property(fc.oneof(query, hostileQuery, fc.string({ unit: 'grapheme', maxLength: 40 })), (text) => {
      let node;
      try {
        node = parseQuery(text);
      } catch (cause) {
        assert.ok(cause instanceof QuerySyntaxError, `not a QuerySyntaxError: ${String(cause)}`);
        assert.ok(cause.col >= 1 && cause.col <= text.length + 1, `column ${cause.col} outside "${text}"`);
        return;
      }
      const canonical = formatQuery(node);
      assert.equal(formatQuery(parseQuery(canonical)), canonical);
    }),
    { seed: SEED, numRuns: RUNS * 3 },
  );
});

test('documents: check refuses with positions, or every host compiles and its nft script passes nft -c', { skip: skipUnlessRoot }, async (t) => {
  const accepted: Array<{ docs: Documents; scripts: string[] }> = [];
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(documents, async (docs) => {
      const scripts = await checkAndCompile(docs);
      if (scripts === null) refused++;
      else accepted.push({ docs, scripts });
    }),
    { seed: SEED, numRuns: RUNS },
  );
  /* Both outcomes must be exercised, or the generators drifted away from what the language accepts. */
  assert.ok(accepted.length >= RUNS / 10, `only ${accepted.length} of ${RUNS} documents passed check`);
  assert.ok(refused >= RUNS / 10, `only ${refused} of ${RUNS} documents were refused`);
  t.diagnostic(`${accepted.length} documents accepted (${accepted.reduce((n, c) => n + c.scripts.length, 0)} hosts compiled), ${refused} refused`);
  const ns = namespaceName('pal-fuzz');
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  try {
    const refusals = nftRefusals(ns, accepted);
    assert.deepEqual(
      refusals.map((r) => ({ nft: r.stderr.split('\n').slice(0, 6).join('\n'), policy: r.docs.policy, inventory: r.docs.inventory })),
      [],
      'check accepted these, nft -c refused them',
    );
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});

interface Run {
  code: number | null;
  stderr: string;
}

function cli(args: string[]): Run {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: result.status, stderr: result.stderr };
}

function assertClean(run: Run, what: string): void {
  assert.ok(run.code === 0 || run.code === 1 || run.code === 2, `${what}: exit ${run.code}\n${run.stderr}`);
  assert.doesNotMatch(run.stderr, /^\s+at .+:\d+:\d+\)?$/m, `${what}: a stack trace\n${run.stderr}`);
  assert.doesNotMatch(run.stderr, /internal error/i, `${what}: an internal error\n${run.stderr}`);
}

test('the CLI on a sample: check and compile exit 0, 1 or 2, never with a stack trace, and agree', () => {
  for (const [i, docs] of fc.sample(documents, { seed: SEED, numRuns: CLI_SAMPLE }).entries()) {
    const files = writeDocuments(docs, tempDir(`palisade-fuzz-cli-${i}-`));
    const common = ['--policy', files.policy, '--inventory', files.inventory, '--no-resolve'];
    const checked = cli(['check', ...common]);
    assertClean(checked, `check of sample ${i}`);
    const host = /^\s*(?:-\s+)?"?name"?:\s*"?([A-Za-z0-9._-]+)"?,?$/m.exec(docs.inventory)?.[1] ?? 'web-1-0';
    const compiled = cli(['compile', '--host', host, ...common]);
    assertClean(compiled, `compile of sample ${i}`);
    if (checked.code === 0) assert.ok(compiled.code === 0 || (compiled.code === 2 && /not in the inventory/.test(compiled.stderr)), `check accepted sample ${i}, compile --host ${host} failed:\n${compiled.stderr}`);
    else assert.notEqual(compiled.code, 0, `check refused sample ${i}, compile accepted it`);
  }
});
