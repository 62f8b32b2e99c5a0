/** arrayElementOffsets: row starts in knife JSON, past strings, escapes and nested look-alikes. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { arrayElementOffsets } from '../../src/inventory/json-rows.ts';

it('finds each element of the top-level array only', () => {
  const text = '{"x": "a]\\"[", "meta": {"rows": [1]}, "rows": [ {"name": "a", "s": "],[\\\\"}, \n {"name": "b"}, 7 ], "after": [1, 2]}';
  JSON.parse(text);
  const offsets = arrayElementOffsets(text, 'rows');
  assert.deepEqual(
    offsets.map((o) => text.slice(o, o + 4)),
    ['{"na', '{"na', '7 ],'],
  );
});

it('finds nothing in an empty array or without the key', () => {
  assert.deepEqual(arrayElementOffsets('{"rows": [ ]}', 'rows'), []);
  assert.deepEqual(arrayElementOffsets('{"hosts": [{}]}', 'rows'), []);
});
