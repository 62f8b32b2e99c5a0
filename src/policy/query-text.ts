/** Queries written in policy files: parsed, with syntax errors placed at their column in the file. */
import type { Node } from 'yaml';
import type { QueryNode } from '../query/ast.ts';
import { QuerySyntaxError } from '../query/ast.ts';
import { parseQuery } from '../query/parser.ts';
import type { SourceFile } from './yaml-source.ts';

/** Parses `text`, the value of `node`; reports an error and returns null when it is not a valid query. */
export function parseQueryAt(file: SourceFile, node: Node, text: string, rule: string): QueryNode | null {
  if (text.trim() === '') {
    file.error(node, 'empty query: an empty query matches nothing', rule);
    return null;
  }
  try {
    return parseQuery(text);
  } catch (cause) {
    if (!(cause instanceof QuerySyntaxError)) throw cause;
    file.error(file.innerPos(node, cause.col), `invalid query "${text}": ${cause.message}`, rule);
    return null;
  }
}

/** The column of the first `SAMETAG` in a query, or null. */
export function sametagColumn(query: QueryNode): number | null {
  switch (query.kind) {
    case 'sametag':
      return query.col;
    case 'term':
    case 'all':
      return null;
    case 'not':
      return sametagColumn(query.item);
    case 'and':
    case 'or':
      for (const item of query.items) {
        const col = sametagColumn(item);
        if (col !== null) return col;
      }
      return null;
  }
}
