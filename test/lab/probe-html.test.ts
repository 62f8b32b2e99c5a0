import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRoleGraph } from '../../src/graph/model.ts';
import { formatProbeHtml } from '../../src/lab/probe-html.ts';
import type { ProbeResult } from '../../src/lab/probe-run.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import { FleetCompiler } from '../../src/compile/compile.ts';

const INVENTORY = `
hosts:
  - { name: web-1, environment: prod, roles: ['<script>alert(1)</script>'], interfaces: { eth0: [10.0.0.1] } }
  - { name: db-1, environment: prod, roles: [db], interfaces: { eth0: [10.0.0.2] } }
`;
const POLICY = `
rules:
  Db:
    on: roles:db
    direction: in
    protocol: tcp
    source: "roles:*"
    dport: 5432
`;

const result = (over: Partial<ProbeResult>): ProbeResult =>
  ({
    source: 'web-1', destination: 'db-1', protocol: 'tcp', port: 5432, sourcePort: null, family: 4, user: null, uid: 65534,
    sourceAddress: '10.0.0.1', destinationAddress: '10.0.0.2', predicted: true, reasons: [], unevaluated: [],
    outcome: 'passed', detail: 'connected', passed: true, mismatch: false, unverified: false, ...over,
  }) as ProbeResult;

test('lab probe --format html: the map, role by role and host by host, disagreements marked; no script, names escaped', () => {
  const policy = parsePolicyFiles([{ path: 'policy.yaml', text: POLICY }]).policy;
  const inventory = parseInventoryDocument(INVENTORY, 'inventory.yaml');
  const graph = buildRoleGraph(new FleetCompiler({ policy, inventory, names: new Map() }), policy, inventory);
  const results = [result({}), result({ source: 'db-1', destination: 'web-1', port: 22, passed: true, predicted: false, mismatch: true, outcome: 'passed' })];
  const html = formatProbeHtml({ lab: 'shop', backend: 'nft', hosts: ['db-1', 'web-1'], results, summary: { probes: 2, passed: 2, mismatches: 1, unverified: 0, seconds: 1 }, notes: [] }, graph);
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script/i);
  assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
  assert.match(html, /<svg /);
  assert.match(html, /<td class="mismatch">!22<\/td>/);
  assert.match(html, /MISMATCH db-1 -&#62; web-1 tcp\/22: explain says denied, the kernel: passed/);
  /* Role by role: prod/db → the hostile role got 22 (the mismatch), the hostile role → prod/db got 5432. */
  assert.match(html, /<td>5432<\/td>/);
});
