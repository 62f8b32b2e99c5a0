/**
 * `check`: what loading found, the findings that need both the policy and the inventory (src/compile/lint.ts),
 * and the errors only the backend reveals (raw iptables rules nft has no form for).
 */
import { lintPolicy, untranslatableRules } from '../compile/lint.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { BackendName } from '../kernel/backend.ts';
import { containersSummary } from '../policy/containers.ts';
import type { Workspace } from './workspace.ts';

export interface CheckCounts {
  rules: number;
  raw: number;
  files: number;
  hosts: number;
  inventory: string;
  /** What the policy does with containers' published ports, in words. */
  containers: string;
}

export interface CheckResult {
  /** Errors: the hosts could not load this policy with the backend. */
  errors: Diagnostic[];
  /** Warnings (a workspace with other errors does not load: InputError). */
  findings: Diagnostic[];
  counts: CheckCounts;
}

export function checkWorkspace(ws: Workspace, backend: BackendName = 'nft'): CheckResult {
  return {
    errors: backend === 'iptables' ? [] : untranslatableRules(ws.policy, ws.inventory, ws.compiler, ws.rawTranslations),
    findings: [...ws.diagnostics, ...lintPolicy(ws.policy, ws.inventory, ws.compiler)],
    counts: { rules: ws.policy.rules.length, raw: ws.policy.raw.length, files: ws.policy.files.length, hosts: ws.inventory.hosts.length, inventory: ws.inventory.source, containers: containersSummary(ws.policy) },
  };
}
