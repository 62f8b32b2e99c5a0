/** A command called wrongly (exit 2), as opposed to invalid policy or inventory (exit 1). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
