/** Errors and warnings about user input, each pointing at the place that caused it. */

export interface SourcePos {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  col: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  message: string;
  file?: string;
  line?: number;
  col?: number;
  /** The policy rule the diagnostic is about. */
  rule?: string;
  /** The inventory host the diagnostic is about. */
  host?: string;
}

/** Thrown when input is invalid: carries every error found, not just the first. */
export class InputError extends Error {
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n') || 'invalid input');
    this.name = 'InputError';
    this.diagnostics = diagnostics;
  }
}

/**
 * An operation that failed for a reason the user can act on (a kernel tool refused a change, a file or a
 * lab is not there): the CLI prints its message and exits 1. The modules' own errors extend it.
 */
export class OperationError extends Error {}

export function error(message: string, where: Partial<SourcePos> & { rule?: string; host?: string } = {}): Diagnostic {
  return { severity: 'error', message, ...where };
}

export function warning(message: string, where: Partial<SourcePos> & { rule?: string; host?: string } = {}): Diagnostic {
  return { severity: 'warning', message, ...where };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Throws an InputError when any diagnostic is an error. */
export function throwIfErrors(diagnostics: readonly Diagnostic[]): void {
  if (hasErrors(diagnostics)) throw new InputError([...diagnostics]);
}

/** `file:line:col: error: rule "X": message` — the form editors and CI logs recognise. */
export function formatDiagnostic(d: Diagnostic): string {
  const place = d.file === undefined ? '' : `${d.file}${d.line === undefined ? '' : `:${d.line}${d.col === undefined ? '' : `:${d.col}`}`}: `;
  const subject = [d.rule === undefined ? '' : `rule "${d.rule}"`, d.host === undefined ? '' : `host "${d.host}"`]
    .filter(Boolean)
    .join(', ');
  return `${place}${d.severity}: ${subject ? `${subject}: ` : ''}${d.message}`;
}
