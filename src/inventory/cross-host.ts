/** Checks across hosts: unique names (error), shared addresses and address-less hosts (warnings). */
import { error, warning, type Diagnostic, type SourcePos } from '../diagnostics.ts';
import { AddressBook } from './ownership.ts';
import type { Host } from './types.ts';

function at(pos: SourcePos | undefined): Partial<SourcePos> {
  return pos ?? {};
}

/** Errors for every host whose name an earlier host already took, found entry by entry as they are checked. */
export class DuplicateNames {
  readonly errors: Diagnostic[] = [];
  /** Each name's first entry: once every entry is a valid host, each host's position by name. */
  readonly firstByName = new Map<string, number>();

  /** `nameAt(i)`: where entry i's name was written. */
  constructor(private readonly nameAt: (index: number) => SourcePos) {}

  /** Entry `index`, named `name` if it has a string name. */
  add(name: string | undefined, index: number): void {
    if (name === undefined) return;
    const earlier = this.firstByName.get(name);
    if (earlier === undefined) this.firstByName.set(name, index);
    else this.errors.push(error(`duplicate host name "${name}" (first declared at line ${this.nameAt(earlier).line})`, { ...this.nameAt(index), host: name }));
  }
}

/**
 * Warnings for every address that two hosts both yield to queries, and for every host that yields none.
 * `addressOrigin(i, address)`: where host i wrote the address.
 */
export function addressWarnings(hosts: readonly Host[], addressOrigin: (index: number, address: string) => SourcePos | undefined): Diagnostic[] {
  const book = new AddressBook<Host>();
  const warnings: Diagnostic[] = [];
  hosts.forEach((host, i) => {
    const { v4, v6 } = host.addresses;
    if (v4.length + v6.length === 0) {
      const why = host.lan === undefined ? 'it has no address' : `its lan interface ${host.lan} has no address`;
      warnings.push(warning(`${why}: rules selecting it match nothing`, { ...at(host.origin), host: host.name }));
    }
    for (const family of [v4, v6]) {
      for (const address of family) {
        const owner = book.take(host, address);
        if (owner === undefined) continue;
        const where = addressOrigin(i, address) ?? host.origin;
        warnings.push(warning(`address ${address} is claimed by both ${owner.name} and ${host.name}`, { ...at(where), host: host.name }));
      }
    }
  });
  return warnings;
}
