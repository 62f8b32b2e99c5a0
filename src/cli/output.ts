/** Where command output goes: results to stdout, diagnostics to stderr. Injected so tests can capture it. */
import { formatDiagnostic, type Diagnostic } from '../diagnostics.ts';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

export function reportDiagnostics(output: Output, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) output.err(formatDiagnostic(d));
}

export const toJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
