import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuerySyntaxError, type QueryNode } from '../../src/query/ast.ts';
import { parseQuery } from '../../src/query/parser.ts';
import { formatQuery } from '../../src/query/format.ts';

const term = (field: string, value: string, col: number, wildcard = false): QueryNode => ({ kind: 'term', field, value, wildcard, col });

function syntaxError(text: string, message: string | RegExp, col: number): void {
  assert.throws(
    () => parseQuery(text),
    (error: unknown) => {
      assert.ok(error instanceof QuerySyntaxError, `expected a QuerySyntaxError for ${JSON.stringify(text)}`);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      assert.equal(error.col, col, `column of ${JSON.stringify(text)}: ${error.message}`);
      return true;
    },
  );
}

test('a term: field, value and 1-based column', () => {
  assert.deepEqual(parseQuery('  roles:web'), term('roles', 'web', 3));
});

test('aliases resolve to canonical field names', () => {
  assert.deepEqual(parseQuery('chef_environment:prod'), term('environment', 'prod', 1));
  assert.deepEqual(parseQuery('role:web'), term('roles', 'web', 1));
  assert.deepEqual(parseQuery('tag:shop'), term('tags', 'shop', 1));
});

test('attribute keys: dotted paths with _ and -', () => {
  assert.deepEqual(parseQuery('net.zone:dmz'), term('net.zone', 'dmz', 1));
  assert.deepEqual(parseQuery('rack_id.sub-zone:a-1'), term('rack_id.sub-zone', 'a-1', 1));
});

test('wildcards in bare values', () => {
  assert.deepEqual(parseQuery('roles:mongo*'), term('roles', 'mongo*', 1, true));
  assert.deepEqual(parseQuery('name:web-?'), term('name', 'web-?', 1, true));
  assert.deepEqual(parseQuery('name:*'), term('name', '*', 1, true));
});

test('quoted values are literal, with \\" escapes', () => {
  assert.deepEqual(parseQuery('name:"web *"'), term('name', 'web *', 1));
  assert.deepEqual(parseQuery('owner:"say \\"hi\\""'), term('owner', 'say "hi"', 1));
  assert.deepEqual(parseQuery('owner:""'), term('owner', '', 1));
});

test('backslash escapes in bare values; escaped wildcards stay literal', () => {
  assert.deepEqual(parseQuery('name:a\\ b'), term('name', 'a b', 1));
  assert.deepEqual(parseQuery('name:a\\*'), term('name', 'a*', 1));
  assert.deepEqual(parseQuery('name:a\\*b*'), term('name', 'a\\*b*', 1, true));
});

test('values may contain colons and the usual punctuation', () => {
  assert.deepEqual(parseQuery('ip:fe80::1'), term('ip', 'fe80::1', 1));
  assert.deepEqual(parseQuery('owner:ops@example.net/x'), term('owner', 'ops@example.net/x', 1));
});

test('*:* and SAMETAG', () => {
  assert.deepEqual(parseQuery('*:*'), { kind: 'all', col: 1 });
  assert.deepEqual(parseQuery(' SAMETAG'), { kind: 'sametag', col: 2 });
});

test('precedence: NOT over AND over OR', () => {
  assert.deepEqual(parseQuery('roles:a OR roles:b AND roles:c'), {
    kind: 'or',
    items: [term('roles', 'a', 1), { kind: 'and', items: [term('roles', 'b', 12), term('roles', 'c', 24)] }],
  });
  assert.deepEqual(parseQuery('NOT roles:a AND roles:b'), {
    kind: 'and',
    items: [{ kind: 'not', item: term('roles', 'a', 5) }, term('roles', 'b', 17)],
  });
});

test('parentheses group, and nested AND/OR of the same kind are flattened', () => {
  assert.deepEqual(parseQuery('(roles:a OR roles:b) AND roles:c'), {
    kind: 'and',
    items: [{ kind: 'or', items: [term('roles', 'a', 2), term('roles', 'b', 13)] }, term('roles', 'c', 26)],
  });
  assert.deepEqual(parseQuery('roles:a AND (roles:b AND roles:c)'), {
    kind: 'and',
    items: [term('roles', 'a', 1), term('roles', 'b', 14), term('roles', 'c', 26)],
  });
  assert.deepEqual(parseQuery('((roles:a))'), term('roles', 'a', 3));
});

test('symbolic operators &&, || and !', () => {
  assert.deepEqual(parseQuery('roles:a && !roles:b || tags:c'), {
    kind: 'or',
    items: [{ kind: 'and', items: [term('roles', 'a', 1), { kind: 'not', item: term('roles', 'b', 13) }] }, term('tags', 'c', 24)],
  });
});

test('keywords are exact uppercase words; a field may be named like one', () => {
  assert.deepEqual(parseQuery('NOT NOT SAMETAG'), { kind: 'not', item: { kind: 'not', item: { kind: 'sametag', col: 9 } } });
  assert.deepEqual(parseQuery('AND:x'), term('AND', 'x', 1));
});

test('error: empty query', () => {
  syntaxError('', 'empty query', 1);
  syntaxError('   ', 'empty query', 1);
});

test('error: missing value after field:', () => {
  syntaxError('roles:', "missing value after 'roles:'", 7);
  syntaxError('roles: web', "missing value after 'roles:'", 7);
  syntaxError('(roles:)', "missing value after 'roles:'", 8);
  syntaxError('roles:(a OR b)', "missing value after 'roles:'; to match several values write (roles:a OR roles:b)", 7);
});

test('error: term without field', () => {
  syntaxError('webserver', "expected field:value, e.g. roles:webserver, found 'webserver'", 1);
  syntaxError('roles:a OR db', "expected field:value, e.g. roles:db, found 'db'", 12);
  syntaxError('"web"', 'expected field:value, found a quoted value without a field (write field:"web")', 1);
  syntaxError('*', "expected field:value, found '*' (every host is *:*)", 1);
});

test('error: unbalanced parentheses', () => {
  syntaxError('(roles:a', "unbalanced '(': missing ')'", 1);
  syntaxError('roles:a AND (roles:b OR (roles:c)', "unbalanced '(': missing ')'", 13);
  syntaxError('(', "unbalanced '(': missing ')'", 1);
  syntaxError('roles:a)', "unbalanced ')': no matching '('", 8);
  syntaxError(')', "unbalanced ')': no matching '('", 1);
  syntaxError('()', 'empty parentheses', 1);
});

test('error: unterminated quote', () => {
  syntaxError('name:"abc', 'unterminated quoted value: missing closing \'"\'', 6);
  syntaxError('name:"abc\\"', 'unterminated quoted value: missing closing \'"\'', 6);
  syntaxError('roles:a OR "x', 'unterminated quoted value: missing closing \'"\'', 12);
});

test('error: dangling and misplaced operators', () => {
  syntaxError('roles:a AND', 'dangling AND: expected a query after it', 9);
  syntaxError('roles:a ||', 'dangling ||: expected a query after it', 9);
  syntaxError('NOT', 'dangling NOT: expected a query after it', 1);
  syntaxError('AND roles:a', 'expected field:value before AND', 1);
  syntaxError('roles:a AND OR roles:b', 'expected a query after AND, found OR', 13);
  syntaxError('roles:a AND )', "expected a query after AND, found ')'", 13);
  syntaxError('( OR roles:a)', "expected a query after '(', found OR", 3);
});

test('error: two operands without an operator', () => {
  syntaxError('roles:a roles:b', "expected AND, OR or end of query, found 'roles:b'", 9);
  syntaxError('(roles:a roles:b)', "expected AND, OR or ')', found 'roles:b'", 10);
  syntaxError('name:"a"b', "expected AND, OR or end of query, found 'b'", 9);
  syntaxError('roles:a NOT roles:b', 'expected AND, OR or end of query, found NOT (did you mean AND NOT?)', 9);
});

test('error: lowercase operators get a hint', () => {
  syntaxError('roles:a and roles:b', 'operators are uppercase: AND', 9);
  syntaxError('roles:a or roles:b', 'operators are uppercase: OR', 9);
  syntaxError('not roles:a', 'operators are uppercase: NOT', 1);
  syntaxError('roles:a AND not roles:b', 'operators are uppercase: NOT', 13);
});

test('error: bad field names', () => {
  syntaxError(':web', "empty field name before ':'", 1);
  syntaxError('roles:a OR :b', "empty field name before ':'", 12);
  syntaxError('a..b:c', 'invalid field name "a..b": empty part in a dotted path', 1);
  syntaxError('ro$les:a', 'invalid character \'$\' in field name "ro$les"', 3);
  syntaxError('ro\\les:a', "field names cannot contain '\\'", 3);
  syntaxError('*:web', "'*' as a field is only valid in *:* (every host)", 1);
});

test('error: unexpected characters', () => {
  syntaxError('roles:a & roles:b', "unexpected character '&' (use AND or &&)", 9);
  syntaxError('roles:a | roles:b', "unexpected character '|' (use OR or ||)", 9);
  syntaxError('roles:a [x]', "unexpected character '['", 9);
  syntaxError('roles:[a]', "unexpected character '['", 7);
  syntaxError('roles:a\\', "'\\' at the end of the query escapes nothing", 8);
});

test('nesting is limited, with the column of the first NOT or ( beyond the limit', () => {
  syntaxError(`${'NOT '.repeat(6000)}roles:web`, /nested too deeply: at most 100 levels/, 4 * 100 + 1);
  syntaxError(`${'('.repeat(6000)}roles:web${')'.repeat(6000)}`, /nested too deeply/, 101);
  syntaxError(`${'(NOT '.repeat(60)}roles:web${')'.repeat(60)}`, /nested too deeply/, 5 * 50 + 1);
});

test('a query nested to the limit parses, formats and parses back', () => {
  const deep = `${'NOT ('.repeat(50)}roles:web OR tags:a${')'.repeat(50)}`;
  const text = formatQuery(parseQuery(deep));
  assert.equal(text, `${'NOT '.repeat(50)}(roles:web OR tags:a)`);
  assert.equal(formatQuery(parseQuery(text)), text);
});
