/**
 * Address ownership, the one rule: an address belongs to the first host that claims it; a later host claiming
 * it conflicts (a file inventory warns, a fleet keeps the address from the later claimer only, `hosts put` refuses it). A host
 * owns every address of every interface, also those queries do not yield.
 */
import type { Host } from './types.ts';

/** Every address a host owns: all its interfaces' addresses. */
export function ownedAddresses(host: Pick<Host, 'interfaces'>): string[] {
  return Object.values(host.interfaces).flat();
}

/** Which host owns which address, first claim wins. */
export class AddressBook<H extends { name: string }> {
  private readonly owners = new Map<string, H>();

  /** A book where each of hosts, in order, claims what it owns. */
  static of<H extends Pick<Host, 'name' | 'interfaces'>>(hosts: Iterable<H>): AddressBook<H> {
    const book = new AddressBook<H>();
    for (const host of hosts) book.claim(host, ownedAddresses(host));
    return book;
  }

  owner(address: string): H | undefined {
    return this.owners.get(address);
  }

  /** The addresses of `addresses` another host owns already, with their owner. */
  conflicts(host: H, addresses: readonly string[]): Array<{ address: string; owner: H }> {
    return addresses.flatMap((address) => {
      const owner = this.owners.get(address);
      return owner === undefined || owner.name === host.name ? [] : [{ address, owner }];
    });
  }

  /** Claims one address of host's, as `conflicts` then `claim` would: the other host owning it already, if any. */
  take(host: H, address: string): H | undefined {
    const owner = this.owners.get(address);
    if (owner === undefined) this.owners.set(address, host);
    return owner === undefined || owner.name === host.name ? undefined : owner;
  }

  /** Records host as the owner of those addresses nobody owns yet. */
  claim(host: H, addresses: readonly string[]): void {
    for (const address of addresses) if (!this.owners.has(address)) this.owners.set(address, host);
  }
}
