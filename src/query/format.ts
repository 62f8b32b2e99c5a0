/**
 * Canonical text of a query, and what a query uses. The canonical text names sets, so it depends only on
 * what the query selects as written: aliases are resolved, spacing and redundant parentheses vanish,
 * operators are written AND/OR/NOT, values are lower case (matching is case-insensitive) and quoted only
 * when they need it. Operand order is kept. The text parses back to the same query.
 */
import type { QueryNode } from './ast.ts';
import { isBareChar } from './lexer.ts';

type Junction = Extract<QueryNode, { kind: 'and' | 'or' }>;

/** Operands of a junction with nested junctions of the same kind spread out. */
function operands(node: Junction): QueryNode[] {
  return node.items.flatMap((item) => (item.kind === node.kind ? operands(item) : [item]));
}

/** The node with one-operand junctions unwrapped. */
function effective(node: QueryNode): QueryNode {
  if (node.kind !== 'and' && node.kind !== 'or') return node;
  const items = operands(node);
  return items.length === 1 ? effective(items[0] as QueryNode) : node;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function formatValue(value: string, wildcard: boolean): string {
  const chars = Array.from(value);
  if (!wildcard) {
    const bare = chars.length > 0 && chars.every((ch) => isBareChar(ch) && ch !== '*' && ch !== '?');
    return bare ? value : quote(value);
  }
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '\\') out += `\\${chars[++i] ?? '\\'}`;
    else out += isBareChar(ch) ? ch : `\\${ch}`;
  }
  return out;
}

function formatIn(node: QueryNode, parent: 'and' | 'or' | 'not'): string {
  const inner = effective(node);
  const text = formatQuery(inner);
  const needsParens = (inner.kind === 'or' && parent !== 'or') || (inner.kind === 'and' && parent !== 'and');
  return needsParens ? `(${text})` : text;
}

/** Canonical text: equal for queries that differ only in spacing, aliases, case of values or parentheses. */
export function formatQuery(query: QueryNode): string {
  const q = effective(query);
  switch (q.kind) {
    case 'term':
      return `${q.field}:${formatValue(q.value.toLowerCase(), q.wildcard)}`;
    case 'all':
      return '*:*';
    case 'sametag':
      return 'SAMETAG';
    case 'not':
      return `NOT ${formatIn(q.item, 'not')}`;
    case 'and':
    case 'or': {
      const items = operands(q);
      if (items.length === 0) return q.kind === 'and' ? '*:*' : 'NOT *:*';
      const separator = q.kind === 'and' ? ' AND ' : ' OR ';
      return items.map((item) => formatIn(item, q.kind)).join(separator);
    }
  }
}

/** Whether the query's result depends on the compiled host's tags. */
export function usesSametag(q: QueryNode): boolean {
  switch (q.kind) {
    case 'sametag':
      return true;
    case 'term':
    case 'all':
      return false;
    case 'not':
      return usesSametag(q.item);
    case 'and':
    case 'or':
      return q.items.some(usesSametag);
  }
}

function collectFields(q: QueryNode, into: Set<string>): void {
  if (q.kind === 'term') into.add(q.field);
  else if (q.kind === 'not') collectFields(q.item, into);
  else if (q.kind === 'and' || q.kind === 'or') for (const item of q.items) collectFields(item, into);
}

/** Canonical field names the query's terms use, unique, in order of first use. */
export function queryFields(q: QueryNode): string[] {
  const fields = new Set<string>();
  collectFields(q, fields);
  return [...fields];
}
