/** Builds a compiler from inline YAML, the way the CLI would from files. */
import { FleetCompiler, type CompileInputs } from '../../src/compile/compile.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import type { NameResolution } from '../../src/resolve/resolver.ts';

export function compilerFor(
  policy: string,
  inventory: string,
  names: Record<string, NameResolution> = {},
  options: Pick<CompileInputs, 'now' | 'serviceRunning' | 'cgroupMount'> = {},
): FleetCompiler {
  return new FleetCompiler({ ...compilerInputs(policy, inventory, names), ...options });
}

/** The compiler's inputs from inline YAML. */
export function compilerInputs(policy: string, inventory: string, names: Record<string, NameResolution> = {}): CompileInputs {
  return {
    policy: parsePolicyFiles([{ path: 'policy.yaml', text: policy }]).policy,
    inventory: parseInventoryDocument(inventory, 'inventory.yaml'),
    names: new Map(Object.entries(names)),
  };
}

/** A small fleet: two environments, two tags, v4 and v6. */
export const SMALL_INVENTORY = `
hosts:
  - name: web-1
    environment: production
    roles: [web]
    tags: [shop]
    interfaces: { eth0: [10.0.1.11, "2001:db8::11"] }
    lan: eth0
    users: { www-data: 33, root: 0 }
  - name: web-2
    environment: production
    roles: [web]
    tags: [blog]
    interfaces: { eth0: [10.0.1.12] }
    lan: eth0
    users: { www-data: 33, root: 0 }
  - name: db-1
    environment: production
    roles: [mongodb]
    tags: [shop, blog]
    interfaces: { eth0: [10.0.2.21, "2001:db8::21"], eth1: [10.99.0.21] }
    lan: eth0
    users: { mongodb: 105, root: 0 }
  - name: web-s
    environment: staging
    roles: [web]
    tags: [shop]
    interfaces: { eth0: [10.1.1.11] }
    lan: eth0
    users: { www-data: 33 }
  - name: mon-1
    environment: production
    roles: [monitoring]
    tags: []
    interfaces: { eth0: [10.0.9.1] }
    lan: eth0
    users: { prometheus: 110 }
`;
