/** Checks across hosts: unique names (error), shared addresses and address-less hosts (warnings). */
import { error, warning, type Diagnostic, type SourcePos } from '../diagnostics.ts';
import type { CheckedHost } from './host.ts';
import { AddressBook } from './ownership.ts';
import type { Host } from './types.ts';

function at(pos: SourcePos | undefined): Partial<SourcePos> {
  return pos ?? {};
}

/** Errors for every host whose name an earlier host already took. */
export function duplicateNames(checked: readonly { entry: CheckedHost; nameAt: SourcePos }[]): Diagnostic[] {
  const first = new Map<string, SourcePos>();
  const diagnostics: Diagnostic[] = [];
  for (const { entry, nameAt } of checked) {
    if (entry.name === undefined) continue;
    const earlier = first.get(entry.name);
    if (earlier === undefined) first.set(entry.name, nameAt);
    else diagnostics.push(error(`duplicate host name "${entry.name}" (first declared at line ${earlier.line})`, { ...nameAt, host: entry.name }));
  }
  return diagnostics;
}

/** Warnings for addresses that two hosts both yield to queries, and for hosts that yield none. */
export function addressWarnings(entries: readonly CheckedHost[]): Diagnostic[] {
  const book = new AddressBook<Host>();
  const diagnostics: Diagnostic[] = [];
  for (const { host, addressOrigins } of entries) {
    if (host === null) continue;
    const addresses = [...host.addresses.v4, ...host.addresses.v6];
    if (addresses.length === 0) {
      const why = host.lan === undefined ? 'it has no address' : `its lan interface ${host.lan} has no address`;
      diagnostics.push(warning(`${why}: rules selecting it match nothing`, { ...at(host.origin), host: host.name }));
    }
    for (const { address, owner } of book.conflicts(host, addresses)) {
      const where = addressOrigins.get(address) ?? host.origin;
      diagnostics.push(warning(`address ${address} is claimed by both ${owner.name} and ${host.name}`, { ...at(where), host: host.name }));
    }
    book.claim(host, addresses);
  }
  return diagnostics;
}
