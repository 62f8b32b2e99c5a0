/** Where command output goes: results to stdout, diagnostics to stderr. Injected so tests can capture it. */
import { formatDiagnostic, type Diagnostic } from '../diagnostics.ts';
import { colourEnabled, highlight } from './terminal.ts';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const line = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);

/** Colour only for a terminal (see terminal.ts). */
export const processOutput: Output = {
  out: (text) => process.stdout.write(colourEnabled(process.stdout) ? highlight(line(text)) : line(text)),
  err: (text) => process.stderr.write(colourEnabled(process.stderr) ? highlight(line(text)) : line(text)),
};

export function reportDiagnostics(output: Output, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) output.err(formatDiagnostic(d));
}

export const toJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
