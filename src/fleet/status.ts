/** `status/<name>`: what an agent last applied (etcd revision, policy and inventory revisions, hash, time) and its last error. */
import * as z from 'zod/mini';
import '../schema.ts';

export const statusSchema = z.object({
  host: z.string(),
  /** The etcd revision of the fleet state the agent compiled from. */
  revision: z.int(),
  policyRevision: z.nullable(z.string()),
  inventoryRevision: z.nullable(z.string()),
  /** sha256 of the ruleset applied (its IR, as `palisade status` shows it). */
  hash: z.nullable(z.string()),
  mode: z.nullable(z.string()),
  /** ISO 8601: when the ruleset was last applied (or found already applied). */
  appliedAt: z.nullable(z.string()),
  /** Whether the last kernel check found it different from what was applied (repaired when it could be). */
  drift: z.optional(z.boolean()),
  /** The last failure since the last success, or null. */
  error: z.nullable(z.string()),
  errorAt: z.nullable(z.string()),
  /** The agent's palisade version (absent from agents older than 0.1.0's packaging). */
  version: z.optional(z.string()),
});

export type AgentStatus = z.infer<typeof statusSchema>;

/** The status, or null when the value is not one (reported as a problem by fleet status). */
export function parseStatus(value: string): AgentStatus | null {
  try {
    const parsed = statusSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
