/** Colour only on a terminal and never with NO_COLOR or --no-color; progress only on a terminal's stderr. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colourEnabled, highlight, progress } from '../../src/cli/terminal.ts';

describe('terminal output', () => {
  it('colours only a TTY, and never with NO_COLOR, TERM=dumb or --no-color', () => {
    const tty = { isTTY: true };
    assert.equal(colourEnabled(tty, {}, []), true);
    assert.equal(colourEnabled({ isTTY: false }, {}, []), false);
    assert.equal(colourEnabled({}, {}, []), false);
    assert.equal(colourEnabled(tty, { NO_COLOR: '1' }, []), false);
    assert.equal(colourEnabled(tty, { NO_COLOR: '' }, []), true, 'an empty NO_COLOR does not count (no-color.org)');
    assert.equal(colourEnabled(tty, { TERM: 'dumb' }, []), false);
    assert.equal(colourEnabled(tty, {}, ['node', 'palisade', 'plan', '--no-color']), false);
  });

  it('highlights verdicts, diff lines and errors; leaves JSON alone', () => {
    assert.equal(highlight('    ~ input: rule "x": dport 1 → 2'), '\u001b[33m    ~ input: rule "x": dport 1 → 2\u001b[39m');
    assert.equal(highlight('  + rule input: tcp dport 4444 accept\n  - rule input: x'), '\u001b[32m  + rule input: tcp dport 4444 accept\u001b[39m\n\u001b[31m  - rule input: x\u001b[39m');
    assert.equal(highlight('web-1 -> db-1 tcp/5432: DENIED'), 'web-1 -> db-1 tcp/5432: \u001b[31mDENIED\u001b[39m');
    assert.equal(highlight('error: nope'), '\u001b[31merror:\u001b[39m nope');
    assert.equal(highlight('{ "verdict": "DENIED" }'), '{ "verdict": "DENIED" }');
  });

  it('progress writes to a TTY only, in place, and erases itself', () => {
    let written = '';
    const tty = { isTTY: true, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
    const bar = progress('compiling', 3, tty);
    bar.tick(1);
    bar.tick(3);
    bar.end();
    assert.equal(written, '\r\u001b[2Kcompiling 1/3\r\u001b[2Kcompiling 3/3\r\u001b[2K');
    let piped = '';
    const pipe = { isTTY: false, write: (s: string) => ((piped += s), true) } as unknown as NodeJS.WriteStream;
    const quiet = progress('compiling', 3, pipe);
    quiet.tick(3);
    quiet.end();
    assert.equal(piped, '');
  });
});
