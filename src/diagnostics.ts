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

/** What an operation was touching when it failed: names the kind in messages and logs. */
export type OperationKind = 'kernel' | 'state' | 'fleet' | 'file' | 'lab' | 'audit' | 'other';

/**
 * An operation that failed for a reason the user can act on (a kernel tool refused a change, a file or a
 * lab is not there): the CLI prints its message and exits 1. The modules' own errors extend it.
 * `unchanged` is true only when the operation is known to have left the host as it was: the CLI says
 * "nothing was changed" then, and only then.
 */
export class OperationError extends Error {
  readonly kind: OperationKind;
  readonly unchanged: boolean;

  constructor(message: string, options: { kind?: OperationKind; unchanged?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = options.kind ?? 'other';
    this.unchanged = options.unchanged ?? false;
  }
}

/** A command called wrongly (exit 2), as opposed to invalid policy or inventory (exit 1). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A broken invariant inside Palisade: a bug, never the user's input. The CLI prints a short message and
 * how to report it; the stack trace only with --debug.
 */
export class InternalError extends Error {
  override readonly name = 'InternalError';
}

/**
 * Text from input (names, values, file contents) made safe to print on a terminal: control characters,
 * escape sequences and invalid code points become visible `\xNN`/`\u{N}` escapes.
 */
export function sanitize(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code === 0x0a || code === 0x09) out += ch;
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code === 0xfffd || (code >= 0xd800 && code <= 0xdfff) || code === 0x2028 || code === 0x2029 || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069))
      out += `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return out;
}

const SYSTEM_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENAMETOOLONG: 'the name is too long',
  EEXIST: 'a file of that name is in the way',
};

/** A failed system call's reason in words, with its code: `read-only file system (EROFS)`; else the error's message. */
export function systemReason(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  if (code !== undefined && SYSTEM_REASONS[code] !== undefined) return `${SYSTEM_REASONS[code]} (${code})`;
  return cause instanceof Error ? cause.message : String(cause);
}

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
  return sanitize(`${place}${d.severity}: ${subject ? `${subject}: ` : ''}${d.message}`);
}
