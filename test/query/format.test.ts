import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueryNode } from '../../src/query/ast.ts';
import { formatQuery, queryFields, usesSametag } from '../../src/query/format.ts';
import { parseQuery } from '../../src/query/parser.ts';

const format = (text: string): string => formatQuery(parseQuery(text));

test('canonical text is the same for spacing, aliases, symbols, redundant parentheses and value case', () => {
  const canonical = 'roles:web AND (tags:shop OR NOT environment:dev)';
  for (const text of [
    canonical,
    '  role:web   AND(tag:shop || !chef_environment:dev)',
    '((roles:web) && ((tags:shop) OR (NOT (environment:dev))))',
    'roles:WEB AND (tags:Shop OR NOT environment:DEV)',
    'roles:web AND (tags:shop OR NOT environment:"dev")',
  ]) {
    assert.equal(format(text), canonical, text);
  }
});

test('AND inside OR is parenthesised, whichever way it was written', () => {
  assert.equal(format('roles:a OR roles:b AND roles:c'), 'roles:a OR (roles:b AND roles:c)');
  assert.equal(format('roles:a OR (roles:b AND roles:c)'), 'roles:a OR (roles:b AND roles:c)');
  assert.equal(format('(roles:a OR roles:b) AND roles:c'), '(roles:a OR roles:b) AND roles:c');
  assert.equal(format('NOT (roles:a OR roles:b)'), 'NOT (roles:a OR roles:b)');
});

test('nested junctions of the same kind are flattened, also when built by hand', () => {
  const t = (value: string): QueryNode => ({ kind: 'term', field: 'roles', value, wildcard: false, col: 1 });
  const built: QueryNode = { kind: 'and', items: [t('a'), { kind: 'and', items: [t('b'), { kind: 'or', items: [t('c')] }] }] };
  assert.equal(formatQuery(built), 'roles:a AND roles:b AND roles:c');
});

test('values are quoted only when they need it', () => {
  assert.equal(format('name:web-1.example.net'), 'name:web-1.example.net');
  assert.equal(format('name:"web 1"'), 'name:"web 1"');
  assert.equal(format('name:a\\ b'), 'name:"a b"');
  assert.equal(format('name:"x*"'), 'name:"x*"');
  assert.equal(format('name:"say \\"hi\\""'), 'name:"say \\"hi\\""');
  assert.equal(format('owner:""'), 'owner:""');
  assert.equal(format('ip:fe80::1'), 'ip:fe80::1');
});

test('wildcards stay bare; escaped literals in them stay escaped', () => {
  assert.equal(format('roles:Mongo*'), 'roles:mongo*');
  assert.equal(format('name:web-?'), 'name:web-?');
  assert.equal(format('name:a\\*b*'), 'name:a\\*b*');
  assert.equal(format('name:a\\ b*'), 'name:a\\ b*');
});

test('*:* and SAMETAG', () => {
  assert.equal(format(' *:*  '), '*:*');
  assert.equal(format('(roles:web OR roles:api)&&SAMETAG'), '(roles:web OR roles:api) AND SAMETAG');
});

test('the canonical text parses back to the same canonical text', () => {
  for (const text of ['name:a\\*b*', 'name:"a \\\\ b"', 'roles:a OR roles:b AND NOT (tags:x OR SAMETAG)', 'name:a\\ b*', 'net.zone:"dmz (east)"']) {
    const once = format(text);
    assert.equal(format(once), once, text);
  }
});

test('usesSametag', () => {
  assert.equal(usesSametag(parseQuery('roles:a AND NOT (tags:b OR SAMETAG)')), true);
  assert.equal(usesSametag(parseQuery('roles:a AND tags:sametag')), false);
});

test('queryFields: canonical, unique, in order of first use', () => {
  assert.deepEqual(queryFields(parseQuery('role:a OR (tag:b AND NOT roles:c AND net.zone:d) OR *:* OR SAMETAG')), ['roles', 'tags', 'net.zone']);
  assert.deepEqual(queryFields(parseQuery('*:*')), []);
});
