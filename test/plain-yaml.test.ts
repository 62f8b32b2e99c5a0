/**
 * The fast YAML reader (src/plain-yaml.ts) gives exactly what `yaml` gives, or leaves the document to `yaml`:
 * on the core schema's edge scalars, on the forms the two read differently, on documents `yaml` writes in every
 * style, and on random texts built of YAML's indicators.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDocument, stringify, type ToStringOptions } from 'yaml';
import { plainYaml } from '../src/plain-yaml.ts';

/** `yaml`'s reading of a document: its value, or its first error. */
function reference(text: string): { value: unknown } | { error: string } {
  const doc = parseDocument(text, { prettyErrors: false });
  const first = doc.errors[0];
  return first === undefined ? { value: doc.toJS() } : { error: first.message };
}

/** Same values, NaN and -0 included, and the same key order (objects are compared as written). */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Passes when the fast reader leaves `text` to `yaml`, or reads what `yaml` reads. */
function agrees(text: string): boolean {
  const fast = plainYaml(text);
  if (fast === null) return true;
  const ref = reference(text);
  return 'value' in ref && same(fast.value, ref.value);
}

const SCALARS = [
  ...['0', '12', '+12', '-12', '-0', '012', '0o17', '0o8', '0x1F', '0X1F', '-0x1F', '1_000', '0b101', '1:20'],
  ...['1.5', '1.', '.5', '+.5', '-.5e-3', '1e3', '1E3', '1.0e+3', '1e', '.', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', 'NaN', 'infinity'],
  ...['true', 'True', 'TRUE', 'tRue', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', 'null', 'Null', 'NULL', '~', ''],
  ...['2001-01-01', '10.10.2.21', '::1', '2001:db8::1', 'fe80::1%eth0', 'a#b', 'x: y', '"1"', "'x'", '"\\x41\\u00e9\\t"', "'it''s'", '"a\n  b"', 'a\n  b'],
];

describe('plainYaml: what it reads, it reads as yaml does', () => {
  it("reads the core schema's scalars as yaml does, as values, list items, keys and in flow collections", () => {
    for (const scalar of SCALARS) {
      for (const text of [`k: ${scalar}\n`, `- ${scalar}\n`, `${scalar}: v\n`, `{k: ${scalar}}\n`, `[${scalar}]\n`]) {
        assert.ok(agrees(text), `${JSON.stringify(text)}: ${JSON.stringify(plainYaml(text))} against ${JSON.stringify(reference(text))}`);
      }
    }
    assert.deepEqual(plainYaml('a: 0o17\nb: 0x1F\nc: +12\nd: 1_000\ne: .inf\nf: ~\ng: yes\n')?.value, { a: 15, b: 31, c: 12, d: '1_000', e: Infinity, f: null, g: 'yes' });
    assert.deepEqual(plainYaml(''), { value: null });
  });

  it('leaves to yaml every form the two read differently, and what js-yaml refuses', () => {
    const otherwise = [
      '- !!str 12\n',
      'a: &x 1\nb: *x\n',
      '? a\n: b\n',
      'a: |\n  text\n',
      'a: >\n  text\n',
      '<<: {a: 1}\n',
      'a:\tb\n',
      'a: b\r\n',
      '\ufeffa: b\n',
      '%YAML 1.1\n---\na: yes\n',
      '--- - a\n',
      'a: "b"# comment\n',
      '[a]: b\n',
      '{a: 1}: b\n',
      'a: "b \n  c"\n',
      '- -\n- 0\n',
      '- # nothing\n- 1\n',
      '~: a\n',
      'null: a\n',
      ': a\n',
      'a: 1\na: 2\n',
      'a: 1\n---\nb: 2\n',
      `a: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
    ];
    for (const text of otherwise) assert.equal(plainYaml(text), null, JSON.stringify(text.slice(0, 40)));
  });

  it('reads documents yaml writes, in every style, as yaml reads them', () => {
    const key = fc.oneof(fc.string({ maxLength: 6 }), fc.string({ maxLength: 4, unit: 'binary' }));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string({ maxLength: 8 }),
        fc.string({ maxLength: 6, unit: 'binary' }),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(key, tie('value'), { maxKeys: 3 }),
      ),
    }));
    const styles: ToStringOptions[] = [
      {},
      { defaultStringType: 'QUOTE_DOUBLE' },
      { defaultStringType: 'QUOTE_SINGLE' },
      { defaultStringType: 'BLOCK_LITERAL' },
      { defaultStringType: 'BLOCK_FOLDED' },
      { collectionStyle: 'flow' },
      { defaultKeyType: 'PLAIN' },
      { lineWidth: 8, minContentWidth: 2 },
    ];
    fc.assert(
      fc.property(value, fc.constantFrom(...styles), (v, style) => agrees(stringify(v, style))),
      { numRuns: 20_000 },
    );
  });

  it('reads random texts of YAML indicators, breaks and scalars as yaml reads them, or leaves them to it', () => {
    const piece = fc.constantFrom(
      ...['a', 'b', '1', '0', ' ', '  ', '\n', '\n  ', '- ', '- - ', '-\n', '  - ', '\n- ', ': ', ':', '"', "'", '#', '[', ']', '{', '}', ',', '|', '>'],
      ...['-', '.', 'e', 'x', '\\', '\t', '~', 'null', 'true', '0x1', '0o7', '@', '`', '?', '&a ', '*a', '!', '%', '---', '...', '\r', '\r\n'],
      ...['\u0000', '\u0085', '\u2028', '\ufeff', 'é', '\ud800', '😀', '\u007f', '\u00a0'],
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => agrees(pieces.join(''))),
      { numRuns: 200_000 },
    );
  });
});
