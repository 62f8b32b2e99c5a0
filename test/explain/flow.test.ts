/** explain, pure: both ends of a flow through their own rulesets, worded with describeOrigin. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExplainError, explainFlow, formatExplanation, type FlowQuery } from '../../src/explain/flow.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { compilerFor, SMALL_INVENTORY } from '../helpers/compiler.ts';

const POLICY = `
settings:
  output_drop: true
rules:
  Mongo from web:
    on: roles:mongodb
    direction: in
    protocol: tcp
    source: roles:web AND SAMETAG
    dport: 27017
  Web to mongo:
    on: roles:web
    direction: out
    protocol: tcp
    user: www-data
    destination: roles:mongodb
    dport: 27017
`;

const compiler = compilerFor(POLICY, SMALL_INVENTORY);
const hosts = parseInventoryDocument(SMALL_INVENTORY, 'inventory.yaml').hosts;
const query = (over: Partial<FlowQuery>): FlowQuery => ({ source: 'web-1', destination: 'db-1', protocol: 'tcp', port: 27017, sourcePort: null, user: 'www-data', family: null, ...over });

describe('explainFlow', () => {
  it("allows a flow both ends' rules allow, naming each rule", () => {
    const e = explainFlow(compiler, hosts, query({}));
    assert.equal(e.allowed, true);
    assert.deepEqual(
      e.sides.map((s) => [s.direction, s.host, s.decision, s.decidedBy]),
      [
        ['out', 'web-1', 'accept', 'rule "Web to mongo"'],
        ['in', 'db-1', 'accept', 'rule "Mongo from web"'],
      ],
    );
    assert.equal(e.source.address, '10.0.1.11');
    assert.equal(e.source.interface, 'eth0');
  });

  it('denies on the side whose default decides, and says which setting', () => {
    const e = explainFlow(compiler, hosts, query({ user: 'root' }));
    assert.equal(e.allowed, false);
    const out = e.sides.find((s) => s.direction === 'out');
    assert.equal(out?.accepted, false);
    assert.equal(out?.kind, 'default');
    assert.match(out?.decidedBy ?? '', /output_drop: true/);
  });

  it('keeps to the family asked for, and the one both ends have', () => {
    assert.equal(explainFlow(compiler, hosts, query({ family: 6 })).source.address, '2001:db8::11');
    assert.throws(() => explainFlow(compiler, hosts, query({ source: 'web-2', family: 6 })), ExplainError);
  });

  it('an address outside the inventory is explained on the inventory end only', () => {
    const e = explainFlow(compiler, hosts, query({ source: '192.0.2.7', user: null }));
    assert.deepEqual(e.sides.map((s) => s.host), ['db-1']);
    assert.equal(e.source.host, null);
  });

  it('refuses what it cannot explain with an ExplainError', () => {
    assert.throws(() => explainFlow(compiler, hosts, query({ user: 'nobody' })), /user "nobody" does not exist on web-1/);
    assert.throws(() => explainFlow(compiler, hosts, query({ source: '192.0.2.7', destination: '192.0.2.8', user: null })), /neither end is an inventory host/);
    assert.throws(() => explainFlow(compiler, hosts, query({ protocol: 'icmp', port: null, user: null, family: 6 })), /icmp is IPv4/);
  });

  it('formats one line per side under the verdict', () => {
    const text = formatExplanation(explainFlow(compiler, hosts, query({})));
    assert.match(text, /^web-1 \(10\.0\.1\.11\) -> db-1 \(10\.0\.2\.21\) tcp\/27017 as user www-data: ALLOWED$/m);
    assert.match(text, /^ {2}out on web-1: accepted by rule "Web to mongo"/m);
    assert.match(text, /^ {2}in on db-1: accepted by rule "Mongo from web"/m);
  });
});
