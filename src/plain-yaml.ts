/**
 * YAML read fast and without positions, for documents whose positions matter only when something in them is
 * wrong: palisade.yaml, the names file, an inventory. Palisade reads YAML as `yaml` does (YAML 1.2, core schema),
 * whose parser knows where every value was written but costs an element-only `palisade apply` some 20 ms of
 * its third of a second for a 140-line inventory. js-yaml reads such a document five times faster.
 *
 * The two must never disagree, so js-yaml reads with the core schema's own resolution, copied from `yaml`
 * (null, booleans, integers, floats; in `yaml`'s order, the rest strings), and a document that holds any form
 * the two are known to read differently is not read here at all (null: the caller reads it with `yaml`):
 *
 * - tags, anchors, aliases, explicit keys, block scalars (`! & * ? | >`) and merge keys (`<<`);
 * - tabs, carriage returns, byte-order marks and the line breaks of Unicode and YAML 1.1 (U+2028, U+2029,
 *   U+0085), which `yaml` refuses or keeps as text where js-yaml folds or breaks on them;
 * - a directive (`%`), or anything after a `---` or `...` marker on its line;
 * - a comment that touches what comes before it (`"a"#`), which `yaml` refuses;
 * - a collection as a mapping key (`[a]: b`), which the two turn into different strings;
 * - a line that ends in a space (js-yaml keeps it inside a quoted string folded over lines);
 * - an empty sequence entry (`-` at the end of a line), whose next entries js-yaml may nest;
 * - a key `null`, `Null`, `NULL`, `~` or empty, which may have been a null key (`yaml` makes it '', js-yaml 'null');
 * - and whatever js-yaml refuses or warns about (duplicate keys, several documents, nesting past its stack).
 *
 * test/plain-yaml.test.ts holds both to the same values on documents `yaml` writes in every style and on a
 * million random ones.
 */
import jsyaml from 'js-yaml';

const scalar = (tag: string, test: RegExp, construct: (text: string) => unknown): jsyaml.Type =>
  new jsyaml.Type(`tag:yaml.org,2002:${tag}`, { kind: 'scalar', resolve: (text: string | null) => text !== null && test.test(text), construct });

/* js-yaml keeps one type per tag: each tag's forms are tested together, then told apart in `yaml`'s order. */
const INT_OCT = /^0o[0-7]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const CORE = jsyaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    new jsyaml.Type('tag:yaml.org,2002:null', { kind: 'scalar', resolve: (text: string | null) => text === null || /^(?:~|[Nn]ull|NULL)?$/.test(text), construct: () => null }),
    scalar('bool', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (text) => text[0] === 't' || text[0] === 'T'),
    scalar('int', /^(?:0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+)$/, (text) =>
      INT_OCT.test(text) ? parseInt(text.slice(2), 8) : INT_HEX.test(text) ? parseInt(text.slice(2), 16) : parseInt(text, 10),
    ),
    scalar('float', /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/, (text) =>
      !FLOAT_NAN.test(text) ? parseFloat(text) : text.slice(-3).toLowerCase() === 'nan' ? NaN : text[0] === '-' ? -Infinity : Infinity,
    ),
  ],
});

const READ_OTHERWISE = /[!&*?|>\t\r\ufeff\u0085\u2028\u2029]|<<|^%|^(?:---|\.\.\.)[^\n]|\S#|[\]}] *:| $|(?:^|\s)-(?:$|\s+#)/m;
const MAYBE_NULL_KEY: ReadonlySet<string> = new Set(['', 'null', 'Null', 'NULL', '~']);

function hasMaybeNullKey(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== 'object' || item === null) continue;
    if (Array.isArray(item)) {
      for (const element of item as unknown[]) stack.push(element);
      continue;
    }
    for (const key of Object.keys(item)) {
      if (MAYBE_NULL_KEY.has(key)) return true;
      stack.push((item as Record<string, unknown>)[key]);
    }
  }
  return false;
}

/** The document's value as `yaml` reads it, or null when it is left to `yaml` (see above). */
export function plainYaml(text: string): { value: unknown } | null {
  if (READ_OTHERWISE.test(text)) return null;
  let warned = false;
  let value: unknown;
  try {
    value = jsyaml.load(text, {
      schema: CORE,
      onWarning: () => {
        warned = true;
      },
    });
  } catch {
    return null;
  }
  /* An empty text: js-yaml gives undefined, `yaml` null. */
  return warned || hasMaybeNullKey(value) ? null : { value: value === undefined ? null : value };
}
