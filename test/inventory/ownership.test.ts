/** Address ownership: first claim wins; a host owns all its interfaces' addresses. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressBook, ownedAddresses } from '../../src/inventory/ownership.ts';

const host = (name: string, interfaces: Record<string, string[]>) => ({ name, interfaces });

describe('address ownership', () => {
  it('a host owns every address of every interface', () => {
    assert.deepEqual(ownedAddresses(host('a', { eth0: ['10.0.0.1'], eth1: ['10.0.1.1', '2001:db8::1'] })), ['10.0.0.1', '10.0.1.1', '2001:db8::1']);
  });

  it('the first claim wins; later claims conflict, the owner itself does not', () => {
    const a = host('a', { eth0: ['10.0.0.1'] });
    const b = host('b', { eth0: ['10.0.0.1', '10.0.0.2'] });
    const book = AddressBook.of([a, b]);
    assert.equal(book.owner('10.0.0.1'), a);
    assert.equal(book.owner('10.0.0.2'), b);
    assert.deepEqual(book.conflicts(b, ownedAddresses(b)), [{ address: '10.0.0.1', owner: a }]);
    assert.deepEqual(book.conflicts(a, ownedAddresses(a)), []);
    assert.equal(book.owner('10.9.9.9'), undefined);
  });
});
