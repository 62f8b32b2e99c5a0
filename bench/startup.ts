/**
 * Issue 11's benchmark: how long `palisade --help` and `palisade check` (on the bundled example) take as whole
 * processes, from the bundle (what `npm ci` builds) and from the single executable when one is built, against
 * the baseline measured in the same run, alternating: the TypeScript sources run through tsx (before the
 * bundle). Bare `node -e 0` is the floor. Median wall time of RUNS runs each, beside issue 11's targets for
 * the built CLI (absolute, so they mean something only on a quiet machine: the floor says how quiet it was).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isFresh } from '../bin/fresh.js';
import { median } from './stats.ts';

const RUNS = 7;
/** Issue 11's targets on the 2-core machine, in ms. */
const TARGET_MS: Record<string, number> = { '--help': 150, check: 400 };
const ROOT = join(import.meta.dirname, '..');
const BINARY = join(ROOT, 'dist/palisade-linux-x64');

function wall(argv: readonly string[]): number {
  const started = performance.now();
  const r = spawnSync(argv[0] as string, argv.slice(1), { cwd: ROOT, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return performance.now() - started;
}

export function benchStartup(): string {
  const built = spawnSync(process.execPath, ['scripts/build.js'], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the bundle failed: ${built.stderr}`);
  const variants: Array<[string, string[]]> = [
    ['tsx from source (baseline)', [process.execPath, '--import', 'tsx', 'src/cli/run.ts']],
    ['built (`npx palisade`)', [process.execPath, 'bin/palisade.js']],
    ...(isFresh(BINARY) ? [['single executable', [BINARY]] as [string, string[]]] : []),
  ];
  const rows: string[] = [];
  const floor: number[] = [];
  const cells: Array<{ command: string; name: string; ms: number; baseline: number; first: boolean }> = [];
  for (const command of [['--help'], ['check']]) {
    for (const [, argv] of variants) wall([...argv, ...command]);
    const times = variants.map(() => [] as number[]);
    for (let run = 0; run < RUNS; run++) {
      variants.forEach(([, argv], i) => times[i]?.push(wall([...argv, ...command])));
      floor.push(wall([process.execPath, '-e', '0']));
    }
    const baseline = median(times[0] ?? []);
    variants.forEach(([name], i) => cells.push({ command: command.join(' '), name, ms: median(times[i] ?? []), baseline, first: i === 0 }));
  }
  const node = median(floor);
  for (const { command, name, ms, baseline, first } of cells) {
    const target = TARGET_MS[command] ?? 0;
    const verdict = first ? '' : `< ${target}: ${ms < target ? 'met' : 'not met'}`;
    rows.push(`| \`palisade ${command}\` | ${name} | ${ms.toFixed(0)} | ${(ms / node).toFixed(2)} | ${first ? '' : `${(baseline / ms).toFixed(1)}x faster`} | ${verdict} |`);
  }
  return [
    '## Startup',
    '',
    `Whole processes, median wall time of ${RUNS} runs in ms, alternating; baseline (same run): the sources through tsx. The floor, bare \`node -e 0\`: ${node.toFixed(0)} ms (about 100-140 on the quiet 2-core machine the targets are set on).`,
    '',
    '| command | how | ms | × floor | vs baseline | target (ms) |',
    '|---|---|---:|---:|---|---|',
    ...rows,
  ].join('\n');
}
