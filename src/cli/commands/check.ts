import { lintPolicy } from '../../compile/lint.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { reportDiagnostics, type Output } from '../output.ts';
import { loadWorkspace } from '../../app/workspace.ts';

export async function checkCommand(options: ConfigOverrides, output: Output): Promise<number> {
  const ws = await loadWorkspace(options);
  const findings = [...ws.diagnostics, ...lintPolicy(ws.policy, ws.inventory, ws.compiler)];
  reportDiagnostics(output, findings);
  const warnings = findings.length;
  output.out(
    `ok: ${ws.policy.rules.length} rules and ${ws.policy.raw.length} raw rules in ${ws.policy.files.length} file(s), ` +
      `${ws.inventory.hosts.length} hosts from ${ws.inventory.source}; ${warnings} warning(s)`,
  );
  return 0;
}
