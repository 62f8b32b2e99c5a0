import { checkWorkspace, type CheckCounts } from '../../app/check.ts';
import type { BackendName } from '../../kernel/backend.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { InputError, type Diagnostic } from '../../diagnostics.ts';
import { reportDiagnostics, toJson, type Output } from '../output.ts';
import { loadWorkspace } from '../../app/workspace.ts';

export interface CheckOptions extends ConfigOverrides {
  /** Warnings fail the check too (for CI). */
  strict?: boolean;
  format?: 'text' | 'json';
  /** The backend the hosts load with: raw iptables rules nft has no form for are errors for nft. */
  backend?: BackendName;
}

/** `--format json`: what tools read, errors included (the exit code says the same as in text). */
function checkJson(output: Output, ok: boolean, diagnostics: readonly Diagnostic[], counts: CheckCounts | null): void {
  output.out(toJson({ ok, ...(counts ?? {}), diagnostics }));
}

export async function checkCommand(options: CheckOptions, output: Output): Promise<number> {
  const json = options.format === 'json';
  let ws: Awaited<ReturnType<typeof loadWorkspace>>;
  try {
    ws = await loadWorkspace(options);
  } catch (cause) {
    if (!json || !(cause instanceof InputError)) throw cause;
    checkJson(output, false, cause.diagnostics, null);
    return 1;
  }
  const { errors, findings, counts } = checkWorkspace(ws, options.backend);
  if (errors.length > 0) {
    if (!json) throw new InputError([...errors, ...findings]);
    checkJson(output, false, [...errors, ...findings], null);
    return 1;
  }
  const strict = options.strict === true;
  const failed = strict && findings.length > 0;
  if (json) {
    checkJson(output, !failed, strict ? findings.map((d) => ({ ...d, severity: 'error' as const })) : findings, counts);
    return failed ? 1 : 0;
  }
  reportDiagnostics(output, strict ? findings.map((d) => ({ ...d, severity: 'error' as const })) : findings);
  if (failed) {
    output.err(`check --strict: ${findings.length} warning(s) taken as errors`);
    return 1;
  }
  output.out(
    `ok: ${counts.rules} rules and ${counts.raw} raw rules in ${counts.files} file(s), ` +
      `${counts.hosts} hosts from ${counts.inventory}; ${findings.length} warning(s)`,
  );
  output.out(counts.containers);
  return 0;
}
