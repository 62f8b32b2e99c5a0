/**
 * Issue 11's benchmark: how long `palisade --help` and `palisade check` (on the bundled example) take as whole
 * processes, from the bundle (what `npm ci` builds) and from the single executable when one is built, against
 * the baseline measured in the same run, alternating: the TypeScript sources run through tsx (before the
 * bundle). Bare `node -e 0` is the floor. Median wall time of RUNS runs each.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isFresh } from '../scripts/fresh.js';
import { median } from './stats.ts';

const RUNS = 7;
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
    ['bundle (`npx palisade`)', [process.execPath, 'bin/palisade.js']],
    ...(isFresh(BINARY) ? [['single executable', [BINARY]] as [string, string[]]] : []),
  ];
  const rows: string[] = [];
  const floor: number[] = [];
  for (const command of [['--help'], ['check']]) {
    for (const [, argv] of variants) wall([...argv, ...command]);
    const times = variants.map(() => [] as number[]);
    for (let run = 0; run < RUNS; run++) {
      variants.forEach(([, argv], i) => times[i]?.push(wall([...argv, ...command])));
      floor.push(wall([process.execPath, '-e', '0']));
    }
    const baseline = median(times[0] ?? []);
    variants.forEach(([name], i) => {
      const ms = median(times[i] ?? []);
      rows.push(`| \`palisade ${command.join(' ')}\` | ${name} | ${ms.toFixed(0)} | ${i === 0 ? '' : `${(baseline / ms).toFixed(1)}x faster`} |`);
    });
  }
  return [
    '## Startup',
    '',
    `Whole processes, median wall time of ${RUNS} runs in ms, alternating; baseline (same run): the sources through tsx. Bare \`node -e 0\`: ${median(floor).toFixed(0)} ms.`,
    '',
    '| command | how | ms | vs baseline |',
    '|---|---|---:|---|',
    ...rows,
  ].join('\n');
}
