/** Host names in rules are resolved before compiling, so the compiler stays a pure function of its inputs. */

export interface NameResolution {
  v4: string[];
  v6: string[];
  /** Why the name did not resolve; the entry then matches nothing and the compiler warns. */
  error?: string;
}

export interface Resolver {
  resolve(name: string): Promise<NameResolution>;
}

/** Names from a fixed table (tests, and `dns.hosts` in palisade.yaml); unknown names fail. */
export class StaticResolver implements Resolver {
  private readonly table: ReadonlyMap<string, NameResolution>;

  constructor(table: Record<string, string[]>) {
    this.table = new Map(
      Object.entries(table).map(([name, addresses]) => [
        name.toLowerCase(),
        { v4: addresses.filter((a) => !a.includes(':')), v6: addresses.filter((a) => a.includes(':')) },
      ]),
    );
  }

  has(name: string): boolean {
    return this.table.has(name.toLowerCase());
  }

  resolve(name: string): Promise<NameResolution> {
    return Promise.resolve(this.table.get(name.toLowerCase()) ?? { v4: [], v6: [], error: 'not in the static name table' });
  }
}

/** The first resolver that knows a name answers; the static table overrides DNS. */
export class ChainedResolver implements Resolver {
  constructor(
    private readonly statics: StaticResolver,
    private readonly fallback: Resolver,
  ) {}

  resolve(name: string): Promise<NameResolution> {
    return this.statics.has(name) ? this.statics.resolve(name) : this.fallback.resolve(name);
  }
}

/** Resolves every name once, concurrently. */
export async function resolveAll(names: Iterable<string>, resolver: Resolver): Promise<Map<string, NameResolution>> {
  const unique = [...new Set(names)].sort();
  const results = await Promise.all(unique.map((name) => resolver.resolve(name)));
  return new Map(unique.map((name, i) => [name, results[i] as NameResolution]));
}
