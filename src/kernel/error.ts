/**
 * A kernel tool refused a change, or the host's firewall state could not be read or changed safely.
 * The CLI exits 1 with it; the message says what failed and carries the tool's own stderr.
 */
import { OperationError } from '../diagnostics.ts';

export class KernelError extends OperationError {
  override readonly name = 'KernelError';
  /** The tool's stderr, trimmed; empty when no tool was involved. */
  readonly stderr: string;

  /** `unchanged`: the kernel is as it was before the failed operation. */
  constructor(message: string, stderr = '', unchanged = false) {
    super(stderr === '' ? message : `${message}:\n${stderr}`, { kind: 'kernel', unchanged });
    this.stderr = stderr;
  }
}
