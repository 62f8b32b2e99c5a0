/** The state lock: exclusive, bounded waiting with a clear error, a holder killed -9 leaves no stale lock, and racing recoverers stay exclusive. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE, acquireLock, withLock } from '../../src/apply/lock.ts';
import { StateError } from '../../src/apply/state.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = (): string => tempDir('pal-lock-');
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('state lock', () => {
  it('a second holder waits at most --lock-timeout and names the holder', async () => {
    const d = dir();
    const lock = await acquireLock(d, 0, { command: ['apply', '--host', 'web-1'] });
    const start = Date.now();
    await assert.rejects(acquireLock(d, 300), (e: unknown) => e instanceof StateError && /another palisade holds the lock .*apply --host web-1.*300 ms/.test(e.message));
    assert.ok(Date.now() - start >= 250);
    await assert.rejects(acquireLock(d, 0), StateError);
    await lock.release();
    await (await acquireLock(d, 0)).release();
  });

  it('released with removeDirectory, the lock leaves no directory; contenders, also racing the removal, create it again', async () => {
    const d = join(dir(), 'lab-x');
    await (await acquireLock(d, 0, { command: ['lab', 'down'] })).release({ removeDirectory: true });
    assert.equal(existsSync(d), false);
    for (let i = 0; i < 20; i++) {
      const first = await acquireLock(d, 0);
      const [, second] = await Promise.all([first.release({ removeDirectory: true }), acquireLock(d, 5_000)]);
      assert.ok(readdirSync(d).includes(LOCK_FILE), 'the second holder holds it');
      await second.release({ removeDirectory: true });
      assert.equal(existsSync(d), false);
    }
  });

  it('a state directory upgraded in place (0.1 left a regular file named lock) is not blocked by it', async () => {
    const d = dir();
    writeFileSync(join(d, 'lock'), '');
    await (await acquireLock(d, 0)).release();
  });

  it('a regular file where the lock symlink belongs is refused at once, never spun on', async () => {
    const d = dir();
    writeFileSync(join(d, LOCK_FILE), '');
    await assert.rejects(acquireLock(d, 10_000), (e: unknown) => e instanceof StateError && /not a palisade lock/.test(e.message));
  });

  it('critical sections never interleave', async () => {
    const d = dir();
    const events: string[] = [];
    const section = (name: string) =>
      withLock(d, 10_000, async () => {
        events.push(`${name} in`);
        await delay(100);
        events.push(`${name} out`);
      });
    await Promise.all([section('a'), section('b'), section('c')]);
    for (let i = 0; i < events.length; i += 2) assert.equal(events[i]?.replace(' in', ''), events[i + 1]?.replace(' out', ''), events.join(', '));
  });

  it('a holder killed with -9 leaves no stale lock', async () => {
    const d = dir();
    const holder = spawn(process.execPath, ['--import', 'tsx', '-e', `import('${join(import.meta.dirname, '../../src/apply/lock.ts')}').then(m => m.acquireLock('${d}', 0)).then(() => { console.log('held'); setInterval(() => {}, 1000); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout.on('data', (b: Buffer) => b.toString().includes('held') && resolve()));
    await assert.rejects(acquireLock(d, 0), StateError);
    holder.kill('SIGKILL');
    await (await acquireLock(d, 5000)).release();
  });

  it("a holder killed -9 while it replaced the state file: the next holder removes the temporary file it left", async () => {
    const d = dir();
    const holder = spawn(process.execPath, ['--import', 'tsx', '-e', `import('${join(import.meta.dirname, '../../src/apply/lock.ts')}').then(m => m.acquireLock('${d}', 0)).then(() => { require('node:fs').writeFileSync('${d}/.state.json.' + process.pid + '.0123456789ab.tmp', '{'); console.log('held'); setInterval(() => {}, 1000); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout.on('data', (b: Buffer) => b.toString().includes('held') && resolve()));
    holder.kill('SIGKILL');
    await new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    const lock = await acquireLock(d, 5000);
    assert.deepEqual(readdirSync(d).filter((f) => f.endsWith('.tmp')), []);
    await lock.release();
  });

  it('processes racing to take over a stale lock never hold it together', async () => {
    const d = dir();
    const log = join(d, 'sections.log');
    symlinkSync('999999999:1:dead', join(d, LOCK_FILE));
    const section = `import('${join(import.meta.dirname, '../../src/apply/lock.ts')}').then(async (m) => {
      const fs = await import('node:fs');
      for (let i = 0; i < 5; i += 1) {
        const lock = await m.acquireLock('${d}', 60000);
        fs.appendFileSync('${log}', 'in ' + process.pid + '\\n');
        await new Promise((r) => setTimeout(r, 5));
        fs.appendFileSync('${log}', 'out ' + process.pid + '\\n');
        await lock.release();
      }
    })`;
    const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['--import', 'tsx', '-e', section], { stdio: ['ignore', 'ignore', 'inherit'] }));
    await Promise.all(children.map((c) => new Promise((resolve) => c.on('close', resolve))));
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 40);
    for (let i = 0; i < lines.length; i += 2) assert.equal(lines[i]?.replace('in ', ''), lines[i + 1]?.replace('out ', ''), lines.join(', '));
    assert.deepEqual(readdirSync(d).filter((f) => f.startsWith(`${LOCK_FILE}.stale`)), [], 'no marker left');
  });
});

