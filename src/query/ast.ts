/** The query language of DESIGN.md: Chef-search-style selections of hosts. */

/** Canonical field names; aliases (`chef_environment`, `role`, `tag`) are resolved by the parser. */
export type BuiltinField = 'name' | 'environment' | 'roles' | 'tags';

export type QueryNode =
  /**
   * `field:value`; `field` is canonical (alias resolved), or an attribute key (dotted path into attributes).
   * `value` is the literal text, unless `wildcard`: then `*` and `?` are wildcards and `\*`, `\?`, `\\`
   * stand for a literal `*`, `?`, `\`.
   */
  | { kind: 'term'; field: string; value: string; wildcard: boolean; /** 1-based column in the query text */ col: number }
  /** `*:*` */
  | { kind: 'all'; col: number }
  /** `SAMETAG`: hosts sharing at least one tag with the host the ruleset is compiled for */
  | { kind: 'sametag'; col: number }
  | { kind: 'and'; items: QueryNode[] }
  | { kind: 'or'; items: QueryNode[] }
  | { kind: 'not'; item: QueryNode };

export class QuerySyntaxError extends Error {
  /** 1-based column in the query text where the problem is. */
  readonly col: number;

  constructor(message: string, col: number) {
    super(message);
    this.name = 'QuerySyntaxError';
    this.col = col;
  }
}
