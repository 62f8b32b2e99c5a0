/** The system resolver (getaddrinfo: /etc/hosts, then DNS), bounded in time and cached. */
import type { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { NameResolution, Resolver } from './resolver.ts';

/**
 * getaddrinfo, every address of `name`. node:dns is loaded when a first name is looked up: loading it reads
 * /etc/resolv.conf, which a command that resolves no name (an apply whose names are all in the names file) need not.
 */
export async function systemLookup(name: string, options: { all: true; verbatim?: boolean }): Promise<LookupAddress[]> {
  const { lookup } = await import('node:dns/promises');
  return lookup(name, options);
}

export class SystemResolver implements Resolver {
  private readonly cache = new Map<string, Promise<NameResolution>>();

  constructor(private readonly timeoutMs = 3000) {}

  resolve(name: string): Promise<NameResolution> {
    const key = name.toLowerCase();
    let pending = this.cache.get(key);
    if (pending === undefined) {
      pending = this.lookup(key);
      this.cache.set(key, pending);
    }
    return pending;
  }

  private async lookup(name: string): Promise<NameResolution> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const answers = await Promise.race([systemLookup(name, { all: true, verbatim: true }), timeout]);
      const canonical = answers.map((a) => ipaddr.parse(a.address).toString());
      return {
        v4: [...new Set(canonical.filter((a) => !a.includes(':')))].sort(),
        v6: [...new Set(canonical.filter((a) => a.includes(':')))].sort(),
      };
    } catch (cause) {
      return { v4: [], v6: [], error: cause instanceof Error ? cause.message : String(cause) };
    } finally {
      clearTimeout(timer);
    }
  }
}
