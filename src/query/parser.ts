/**
 * Recursive-descent parser of the query language (DESIGN.md "Query language"):
 *   or := and (OR and)*     and := unary (AND unary)*
 *   unary := NOT unary | '(' or ')' | field:value | '*:*' | SAMETAG
 * Nested AND/OR of the same kind are flattened. Errors are QuerySyntaxError with the 1-based column of the
 * offending token. Nesting (parentheses and NOT) is limited to MAX_QUERY_DEPTH levels, so that neither the
 * parser nor anything walking the tree (evaluation, formatting) can exhaust the stack.
 */
import { QuerySyntaxError, type QueryNode } from './ast.ts';
import { lexToken, type Token } from './lexer.ts';

/** Levels of parentheses and NOT a query may nest; far beyond any real query, far below the stack's limit. */
export const MAX_QUERY_DEPTH = 100;

const LOWERCASE_OPERATORS: ReadonlySet<string> = new Set(['and', 'or', 'not']);

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of query';
    case 'and':
    case 'or':
    case 'not':
    case 'sametag':
      return token.text;
    default:
      return `'${token.text}'`;
  }
}

/** The error for a token found where AND, OR or the end (`closing`) was expected. */
function expectedOperator(token: Token, closing: string): QuerySyntaxError {
  if (token.kind === 'word' && LOWERCASE_OPERATORS.has(token.text.toLowerCase())) {
    return new QuerySyntaxError(`operators are uppercase: ${token.text.toUpperCase()}`, token.col);
  }
  const hint = token.kind === 'not' ? ` (did you mean AND ${token.text}?)` : '';
  return new QuerySyntaxError(`expected AND, OR or ${closing}, found ${describe(token)}${hint}`, token.col);
}

class Parser {
  private token: Token;
  private depth = 0;

  constructor(private readonly text: string) {
    this.token = lexToken(text, 0);
  }

  parse(): QueryNode {
    if (this.peek().kind === 'eof') throw new QuerySyntaxError('empty query', 1);
    const query = this.parseOr(null);
    if (this.peek().kind === 'rparen') throw new QuerySyntaxError(`unbalanced ')': no matching '('`, this.peek().col);
    if (this.peek().kind !== 'eof') throw expectedOperator(this.peek(), 'end of query');
    return query;
  }

  /** The current token (a method, so that its kind is not narrowed across calls that advance). */
  private peek(): Token {
    return this.token;
  }

  private advance(): Token {
    const current = this.token;
    this.token = lexToken(this.text, current.end);
    return current;
  }

  /** `after`: the operator or '(' the operand follows, for messages. */
  private parseOr(after: Token | null): QueryNode {
    const items = [this.parseAnd(after)];
    while (this.peek().kind === 'or') {
      const op = this.advance();
      items.push(this.parseAnd(op));
    }
    return items.length === 1 ? (items[0] as QueryNode) : { kind: 'or', items: items.flatMap((i) => (i.kind === 'or' ? i.items : [i])) };
  }

  private parseAnd(after: Token | null): QueryNode {
    const items = [this.parseUnary(after)];
    while (this.peek().kind === 'and') {
      const op = this.advance();
      items.push(this.parseUnary(op));
    }
    return items.length === 1 ? (items[0] as QueryNode) : { kind: 'and', items: items.flatMap((i) => (i.kind === 'and' ? i.items : [i])) };
  }

  /** Enters one level of nesting at `token` (a NOT or a '('). */
  private nested<T>(token: Token, parse: () => T): T {
    if (++this.depth > MAX_QUERY_DEPTH) {
      throw new QuerySyntaxError(`query nested too deeply: at most ${MAX_QUERY_DEPTH} levels of parentheses and NOT`, token.col);
    }
    const result = parse();
    this.depth--;
    return result;
  }

  private parseUnary(after: Token | null): QueryNode {
    const token = this.token;
    switch (token.kind) {
      case 'not': {
        this.advance();
        return { kind: 'not', item: this.nested(token, () => this.parseUnary(token)) };
      }
      case 'lparen':
        return this.nested(token, () => this.parseGroup());
      case 'term':
        this.advance();
        return { kind: 'term', field: token.field, value: token.value, wildcard: token.wildcard, col: token.col };
      case 'all':
        this.advance();
        return { kind: 'all', col: token.col };
      case 'sametag':
        this.advance();
        return { kind: 'sametag', col: token.col };
      default:
        throw this.missingOperand(token, after);
    }
  }

  private parseGroup(): QueryNode {
    const open = this.advance();
    if (this.peek().kind === 'eof') throw new QuerySyntaxError(`unbalanced '(': missing ')'`, open.col);
    if (this.peek().kind === 'rparen') throw new QuerySyntaxError('empty parentheses', open.col);
    const inner = this.parseOr(open);
    if (this.peek().kind === 'eof') throw new QuerySyntaxError(`unbalanced '(': missing ')'`, open.col);
    if (this.peek().kind !== 'rparen') throw expectedOperator(this.peek(), `')'`);
    this.advance();
    return inner;
  }

  private missingOperand(token: Token, after: Token | null): QuerySyntaxError {
    if (token.kind === 'word') {
      if (LOWERCASE_OPERATORS.has(token.text.toLowerCase())) {
        return new QuerySyntaxError(`operators are uppercase: ${token.text.toUpperCase()}`, token.col);
      }
      if (token.text === '*') return new QuerySyntaxError(`expected field:value, found '*' (every host is *:*)`, token.col);
      return new QuerySyntaxError(`expected field:value, e.g. roles:${token.text}, found '${token.text}'`, token.col);
    }
    if (token.kind === 'quoted') {
      return new QuerySyntaxError(`expected field:value, found a quoted value without a field (write field:${token.text})`, token.col);
    }
    if (after === null) {
      if (token.kind === 'rparen') return new QuerySyntaxError(`unbalanced ')': no matching '('`, token.col);
      return new QuerySyntaxError(`expected field:value before ${describe(token)}`, token.col);
    }
    if (token.kind === 'eof') return new QuerySyntaxError(`dangling ${after.text}: expected a query after it`, after.col);
    return new QuerySyntaxError(`expected a query after ${describe(after)}, found ${describe(token)}`, token.col);
  }
}

/** Parses query text into its syntax tree; throws QuerySyntaxError. */
export function parseQuery(text: string): QueryNode {
  return new Parser(text).parse();
}
