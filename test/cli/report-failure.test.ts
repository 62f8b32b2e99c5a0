/** The one error model: every failure becomes a message and an exit code, never a bare stack trace. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { reportFailure } from '../../src/cli/main.ts';
import { InputError, InternalError, OperationError, UsageError, error, sanitize } from '../../src/diagnostics.ts';

function report(cause: unknown, debug = false): { code: number; err: string } {
  let err = '';
  const code = reportFailure(cause, { out: () => undefined, err: (t) => (err += `${t}\n`) }, debug);
  return { code, err };
}

describe('reportFailure', () => {
  it('usage errors exit 2', () => {
    assert.deepEqual(report(new UsageError('--host is required')), { code: 2, err: 'error: --host is required\n' });
  });

  it('says "nothing was changed" only for an operation known to have changed nothing', () => {
    assert.equal(report(new OperationError('nft refused', { kind: 'kernel', unchanged: true })).err, 'error: nft refused\nnothing was changed\n');
    assert.equal(report(new OperationError('state write failed', { kind: 'state' })).err, 'error: state write failed\n');
  });

  it('input errors list every diagnostic with its place', () => {
    const r = report(new InputError([error('unknown field', { file: 'p.yaml', line: 3, col: 5, rule: 'R' })]));
    assert.equal(r.code, 1);
    assert.match(r.err, /^p\.yaml:3:5: error: rule "R": unknown field\n1 error\(s\): nothing was changed\n$/);
  });

  it('a bug is reported as internal, with the trace only under --debug', () => {
    const quiet = report(new TypeError('x is undefined'));
    assert.equal(quiet.code, 1);
    assert.match(quiet.err, /^internal error: x is undefined\n.*add --debug for the trace/);
    assert.doesNotMatch(quiet.err, /at /);
    const loud = report(new InternalError('broken invariant'), true);
    assert.match(loud.err, /InternalError: broken invariant\n\s+at /);
  });

  it('escape sequences from input never reach the terminal raw', () => {
    assert.equal(sanitize('rule \u001b[31mred\u0007'), 'rule \\x1b[31mred\\x07');
    assert.equal(sanitize('bad \ufffd and \u202e'), 'bad \\u{fffd} and \\u{202e}');
    assert.match(report(new OperationError('host "\u001b]0;pwn\u0007"')).err, /\\x1b\]0;pwn\\x07/);
  });
});
