/** Checks across hosts: unique names (error), shared addresses and address-less hosts (warnings). */
import { error, warning, type Diagnostic, type SourcePos } from '../diagnostics.ts';
import type { CheckedHost } from './host.ts';
import { AddressBook } from './ownership.ts';
import type { Host } from './types.ts';

function at(pos: SourcePos | undefined): Partial<SourcePos> {
  return pos ?? {};
}

/**
 * The checks across the hosts of one document, made entry by entry as they are checked (nothing of an
 * entry is kept but its host): unique names, and the addresses each host yields to queries.
 */
export class CrossHostChecks {
  /** An error for every host whose name an earlier host already took. */
  readonly duplicates: Diagnostic[] = [];
  /** A warning for every address that two hosts both yield to queries, and for every host that yields none. */
  readonly warnings: Diagnostic[] = [];
  /** Each name's first entry: once every entry is a valid host, each host's position by name. */
  readonly firstByName = new Map<string, number>();
  private readonly book = new AddressBook<Host>();

  /** `nameAt(i)`: where entry i's name was written. */
  constructor(private readonly nameAt: (index: number) => SourcePos) {}

  /** Entry `index`, checked. */
  add(entry: CheckedHost, index: number): void {
    const { name, host } = entry;
    if (name !== undefined) {
      const earlier = this.firstByName.get(name);
      if (earlier === undefined) this.firstByName.set(name, index);
      else this.duplicates.push(error(`duplicate host name "${name}" (first declared at line ${this.nameAt(earlier).line})`, { ...this.nameAt(index), host: name }));
    }
    if (host !== null) this.claimAddresses(entry, host);
  }

  private claimAddresses(entry: CheckedHost, host: Host): void {
    const { v4, v6 } = host.addresses;
    if (v4.length + v6.length === 0) {
      const why = host.lan === undefined ? 'it has no address' : `its lan interface ${host.lan} has no address`;
      this.warnings.push(warning(`${why}: rules selecting it match nothing`, { ...at(host.origin), host: host.name }));
    }
    for (const family of [v4, v6]) {
      for (const address of family) {
        const owner = this.book.take(host, address);
        if (owner === undefined) continue;
        const where = entry.addressOrigin(address) ?? host.origin;
        this.warnings.push(warning(`address ${address} is claimed by both ${owner.name} and ${host.name}`, { ...at(where), host: host.name }));
      }
    }
  }
}
