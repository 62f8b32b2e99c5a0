/** Checks across hosts: unique names (error), shared addresses and address-less hosts (warnings). */
import { error, warning, type Diagnostic, type SourcePos } from '../diagnostics.ts';
import type { CheckedHost } from './host.ts';
import { AddressBook } from './ownership.ts';
import type { Host } from './types.ts';

function at(pos: SourcePos | undefined): Partial<SourcePos> {
  return pos ?? {};
}

/** Errors for every host whose name an earlier host already took; `nameAt(i)`: where entry i's name was written. */
export function duplicateNames(checked: readonly CheckedHost[], nameAt: (index: number) => SourcePos): Diagnostic[] {
  const first = new Map<string, number>();
  const diagnostics: Diagnostic[] = [];
  checked.forEach(({ name }, i) => {
    if (name === undefined) return;
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, i);
    else diagnostics.push(error(`duplicate host name "${name}" (first declared at line ${nameAt(earlier).line})`, { ...nameAt(i), host: name }));
  });
  return diagnostics;
}

/** Warnings for addresses that two hosts both yield to queries, and for hosts that yield none. */
export function addressWarnings(entries: readonly CheckedHost[]): Diagnostic[] {
  const book = new AddressBook<Host>();
  const diagnostics: Diagnostic[] = [];
  for (const entry of entries) {
    const { host } = entry;
    if (host === null) continue;
    const { v4, v6 } = host.addresses;
    if (v4.length + v6.length === 0) {
      const why = host.lan === undefined ? 'it has no address' : `its lan interface ${host.lan} has no address`;
      diagnostics.push(warning(`${why}: rules selecting it match nothing`, { ...at(host.origin), host: host.name }));
    }
    for (const family of [v4, v6]) {
      for (const address of family) {
        const owner = book.take(host, address);
        if (owner === undefined) continue;
        const where = entry.addressOrigin(address) ?? host.origin;
        diagnostics.push(warning(`address ${address} is claimed by both ${owner.name} and ${host.name}`, { ...at(where), host: host.name }));
      }
    }
  }
  return diagnostics;
}
