/**
 * Progress lines for long steps (`lab up`, `lab probe`, `fleet status`, `import --verify`): on a terminal's
 * stderr only, rewritten in place and erased; nothing on a pipe. The sink is checked with injected streams,
 * and `lab up` for real, once under a pseudo-terminal (`script`) and once with stderr piped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { progressSink } from '../../src/cli/terminal.ts';
import { runCli } from '../helpers/cli.ts';
import { skipUnlessRoot } from '../helpers/netns.ts';
import { tempDir } from '../helpers/tmp.ts';

const stream = (isTTY: boolean): { stream: NodeJS.WriteStream; written: () => string } => {
  let written = '';
  return { stream: { isTTY, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream, written: () => written };
};

const BIN = join(import.meta.dirname, '../../bin/palisade.js');
const ERASE = '\r\u001b[2K';

describe('progress lines', () => {
  it('a sink makes its line on the first tick, with the total it is told, on a TTY only', () => {
    const tty = stream(true);
    const bar = progressSink('probing', tty.stream);
    bar.tick(1, 40);
    bar.tick(40, 40);
    bar.end();
    assert.equal(tty.written(), `${ERASE}probing 1/40${ERASE}probing 40/40${ERASE}`);
    const pipe = stream(false);
    const quiet = progressSink('probing', pipe.stream);
    quiet.tick(1, 40);
    quiet.end();
    assert.equal(pipe.written(), '');
    const idle = stream(true);
    progressSink('probing', idle.stream).end();
    assert.equal(idle.written(), '', 'no tick, nothing to erase');
  });

  it('lab up counts the namespaces on a terminal and says nothing of it on a pipe', { skip: skipUnlessRoot }, async () => {
    const dir = tempDir('pal-progress-');
    const inventory = join(dir, 'inventory.yaml');
    const host = (n: number): string => `  - name: p-${n}\n    interfaces: { eth0: [10.213.0.${n}] }\n    lan: eth0\n`;
    writeFileSync(inventory, `hosts:\n${[1, 2, 3].map(host).join('')}`);
    for (const tty of [true, false]) {
      const lab = `pg${randomBytes(4).toString('hex')}`;
      const args = [BIN, 'lab', 'up', '--lab', lab, '--inventory', inventory];
      try {
        /* script gives the command a pseudo-terminal and copies what it writes (stdout and stderr) to its stdout. */
        const run = tty
          ? spawnSync('script', ['-qefc', [process.execPath, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8' })
          : spawnSync(process.execPath, args, { encoding: 'utf8' });
        assert.equal(run.status, 0, run.stdout + run.stderr);
        const seen = tty ? run.stdout : run.stderr;
        assert.match(seen, new RegExp(`lab ${lab}: 3 hosts in namespaces`));
        if (tty) {
          assert.ok(seen.includes(`${ERASE}making namespaces 1/3`), JSON.stringify(seen));
          assert.ok(seen.indexOf(ERASE) < seen.indexOf(`lab ${lab}: 3 hosts`), 'the line is cleared before the summary');
        } else assert.ok(!seen.includes('\u001b') && !seen.includes('making namespaces'), JSON.stringify(seen));
      } finally {
        await runCli(['lab', 'down', '--lab', lab]);
      }
    }
  });
});
