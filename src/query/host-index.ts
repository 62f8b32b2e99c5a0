/**
 * Evaluates queries over an inventory with an inverted index: per field, lower-cased value → the hosts
 * having it. An exact term is one lookup, a wildcard term is matched against the field's distinct values,
 * and every result is a Bitset over inventory positions. Term results and whole-query results are cached
 * (by canonical text, environment and, for SAMETAG queries, the compiled host's tags), so compiling a
 * fleet evaluates each distinct (query, scope) once. Matching is case-insensitive.
 */
import type { Host } from '../inventory/types.ts';
import type { QueryNode } from './ast.ts';
import { Bitset } from './bitset.ts';
import { formatQuery, usesSametag } from './format.ts';
import { compileGlob } from './glob.ts';
import { BUILTIN_FIELDS, builtinFieldValues, forEachAttributeValue, type BuiltinField } from './host-fields.ts';

export interface QueryContext {
  /** Only hosts of this environment are selected; null: every environment. */
  environment: string | null;
  /** The host the ruleset is compiled for, which SAMETAG refers to; null: SAMETAG selects nothing. */
  self: Host | null;
}

interface FieldPostings {
  /** Lower-cased value → positions of the hosts having it, ascending. */
  values: Map<string, number[]>;
  /** Positions of the hosts with a value at this path or below it, ascending. */
  present: number[];
}

interface CachedQuery {
  sametag: boolean;
  /** Scope key (self's tags for SAMETAG queries, then the environment) → result. */
  results: Map<string, Bitset>;
}

interface SelfTags {
  tags: readonly string[];
  /** JSON of the tags: never contains a raw control character, so it can prefix scope keys. */
  key: string;
}

const NO_SELF: SelfTags = { tags: [], key: '' };

function pushOnce(list: number[], position: number): void {
  if (list[list.length - 1] !== position) list.push(position);
}

function addValue(field: FieldPostings, value: string, position: number): void {
  const key = value.toLowerCase();
  let list = field.values.get(key);
  if (list === undefined) {
    list = [];
    field.values.set(key, list);
  }
  pushOnce(list, position);
}

function builtinPostings(hosts: readonly Host[], field: BuiltinField): FieldPostings {
  const postings: FieldPostings = { values: new Map(), present: [] };
  hosts.forEach((host, position) => {
    const values = builtinFieldValues(host, field);
    if (typeof values === 'string') {
      addValue(postings, values, position);
      postings.present.push(position);
    } else if (values.length > 0) {
      for (const value of values) addValue(postings, value, position);
      postings.present.push(position);
    }
  });
  return postings;
}

/** Postings of every attribute path (leaves and the objects above them) some host has. */
function attributePostings(hosts: readonly Host[]): Map<string, FieldPostings> {
  const fields = new Map<string, FieldPostings>();
  const postings = (field: string): FieldPostings => {
    let found = fields.get(field);
    if (found === undefined) {
      found = { values: new Map(), present: [] };
      fields.set(field, found);
    }
    return found;
  };
  hosts.forEach((host, position) => {
    forEachAttributeValue(host.attributes, (path, paths, value) => {
      addValue(postings(path), value, position);
      for (let depth = 0; depth < paths.length; depth++) {
        const ancestor = paths[depth] as string;
        if (depth === paths.length - 1 || !BUILTIN_FIELDS.has(ancestor)) pushOnce(postings(ancestor).present, position);
      }
    });
  });
  return fields;
}

/**
 * The index over an inventory's hosts. Each built-in field is indexed when a query first uses it, the attributes
 * when a query first uses one: compiling one host of a large fleet indexes only what its rules ask about.
 */
export class HostIndex {
  private readonly builtins = new Map<string, FieldPostings>();
  private attributes: Map<string, FieldPostings> | null = null;
  private readonly universe: Bitset;
  private readonly terms = new Map<string, Bitset>();
  private readonly sametags = new Map<string, Bitset>();
  private readonly byText = new Map<string, CachedQuery>();
  private readonly byNode = new WeakMap<QueryNode, CachedQuery>();
  private readonly selfTagsByHost = new WeakMap<Host, SelfTags>();

  constructor(private readonly hosts: readonly Host[]) {
    this.universe = Bitset.full(hosts.length);
  }

  /** A built-in field, or an attribute path (leaf or object) that some host has. */
  knownField(field: string): boolean {
    return BUILTIN_FIELDS.has(field) || this.postings(field) !== undefined;
  }

  private postings(field: string): FieldPostings | undefined {
    if (!BUILTIN_FIELDS.has(field)) {
      this.attributes ??= attributePostings(this.hosts);
      return this.attributes.get(field);
    }
    let postings = this.builtins.get(field);
    if (postings === undefined) {
      postings = builtinPostings(this.hosts, field as BuiltinField);
      this.builtins.set(field, postings);
    }
    return postings;
  }

  /** The hosts (inventory positions) the query selects in this context. Do not mutate the result. */
  evaluate(q: QueryNode, ctx: QueryContext): Bitset {
    const query = this.describe(q);
    const self = query.sametag ? this.selfTags(ctx.self) : NO_SELF;
    const scope = ctx.environment === null ? self.key : `${self.key}\u0001=${ctx.environment.toLowerCase()}`;
    const cached = query.results.get(scope);
    if (cached !== undefined) return cached;
    const unscoped = this.unscoped(q, query, self);
    const result = ctx.environment === null ? unscoped : unscoped.and(this.term('environment', ctx.environment.toLowerCase(), false));
    query.results.set(scope, result);
    return result;
  }

  /**
   * The positions `evaluate` would select, ascending, without keeping the environment's result: a fleet's compiler
   * asks each (query, environment, tags) once and keeps the set it builds from it, and at 100,000 hosts one result
   * per environment would be a bitset of 12 KB more per set.
   */
  positions(q: QueryNode, ctx: QueryContext): number[] {
    const query = this.describe(q);
    const self = query.sametag ? this.selfTags(ctx.self) : NO_SELF;
    const scope = ctx.environment === null ? self.key : `${self.key}\u0001=${ctx.environment.toLowerCase()}`;
    const cached = query.results.get(scope);
    const unscoped = cached ?? this.unscoped(q, query, self);
    if (cached !== undefined || ctx.environment === null) return unscoped.indices();
    const environment = this.term('environment', ctx.environment.toLowerCase(), false);
    return unscoped.indices().filter((i) => environment.has(i));
  }

  private unscoped(q: QueryNode, query: CachedQuery, self: SelfTags): Bitset {
    let unscoped = query.results.get(self.key);
    if (unscoped === undefined) {
      unscoped = this.evaluateNode(q, self.tags);
      query.results.set(self.key, unscoped);
    }
    return unscoped;
  }

  /** The selected hosts, in inventory order. */
  select(q: QueryNode, ctx: QueryContext): Host[] {
    return this.evaluate(q, ctx)
      .indices()
      .map((position) => this.hosts[position] as Host);
  }

  /** The cache entry of the query's canonical text, shared by every node that formats the same. */
  private describe(q: QueryNode): CachedQuery {
    let described = this.byNode.get(q);
    if (described === undefined) {
      const text = formatQuery(q);
      described = this.byText.get(text);
      if (described === undefined) {
        described = { sametag: usesSametag(q), results: new Map() };
        this.byText.set(text, described);
      }
      this.byNode.set(q, described);
    }
    return described;
  }

  /** Self's tags, lower-cased, sorted and unique, with their cache key; none when there is no self. */
  private selfTags(self: Host | null): SelfTags {
    if (self === null) return NO_SELF;
    let found = this.selfTagsByHost.get(self);
    if (found === undefined) {
      const tags = [...new Set(self.tags.map((t) => t.toLowerCase()))].sort();
      found = { tags, key: JSON.stringify(tags) };
      this.selfTagsByHost.set(self, found);
    }
    return found;
  }

  private evaluateNode(q: QueryNode, selfTags: readonly string[]): Bitset {
    switch (q.kind) {
      case 'all':
        return this.universe;
      case 'term':
        return this.term(q.field, q.value.toLowerCase(), q.wildcard);
      case 'sametag':
        return this.sametag(selfTags);
      case 'not':
        return this.evaluateNode(q.item, selfTags).not();
      case 'and': {
        const [first, ...rest] = q.items;
        if (first === undefined) return this.universe;
        return rest.reduce((acc, item) => (acc.isEmpty() ? acc : acc.and(this.evaluateNode(item, selfTags))), this.evaluateNode(first, selfTags));
      }
      case 'or': {
        const [first, ...rest] = q.items;
        if (first === undefined) return Bitset.empty(this.hosts.length);
        return rest.reduce((acc, item) => acc.or(this.evaluateNode(item, selfTags)), this.evaluateNode(first, selfTags));
      }
    }
  }

  /** The hosts sharing a tag with self (its tags lower-cased, sorted, unique): one result per tag combination, shared by every query. */
  private sametag(selfTags: readonly string[]): Bitset {
    const key = JSON.stringify(selfTags);
    let result = this.sametags.get(key);
    if (result === undefined) {
      result = selfTags.reduce((acc, tag) => acc.or(this.term('tags', tag, false)), Bitset.empty(this.hosts.length));
      this.sametags.set(key, result);
    }
    return result;
  }

  /** `value` is lower-cased; a wildcard `*` alone selects the hosts that have the field. */
  private term(field: string, value: string, wildcard: boolean): Bitset {
    const key = JSON.stringify([field, wildcard, value]);
    let result = this.terms.get(key);
    if (result === undefined) {
      result = this.lookup(field, value, wildcard);
      this.terms.set(key, result);
    }
    return result;
  }

  private lookup(field: string, value: string, wildcard: boolean): Bitset {
    const size = this.hosts.length;
    const postings = this.postings(field);
    if (postings === undefined) return Bitset.empty(size);
    if (!wildcard) return Bitset.fromIndices(size, postings.values.get(value) ?? []);
    if (value === '*') return Bitset.fromIndices(size, postings.present);
    const matches = compileGlob(value);
    const result = Bitset.empty(size);
    for (const [candidate, positions] of postings.values) {
      if (matches(candidate)) for (const position of positions) result.set(position);
    }
    return result;
  }
}
