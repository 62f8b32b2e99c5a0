/** `status/<name>`: what an agent last applied (etcd revision, policy and inventory revisions, hash, time) and its last error. */
import { z } from 'zod';

export const statusSchema = z.object({
  host: z.string(),
  /** The etcd revision of the fleet state the agent compiled from. */
  revision: z.number().int(),
  policyRevision: z.string().nullable(),
  inventoryRevision: z.string().nullable(),
  /** sha256 of the ruleset applied (its IR, as `palisade status` shows it). */
  hash: z.string().nullable(),
  mode: z.string().nullable(),
  /** ISO 8601: when the ruleset was last applied (or found already applied). */
  appliedAt: z.string().nullable(),
  /** Whether the last kernel check found it different from what was applied (repaired when it could be). */
  drift: z.boolean().optional(),
  /** The last failure since the last success, or null. */
  error: z.string().nullable(),
  errorAt: z.string().nullable(),
  /** The agent's palisade version (absent from agents older than 0.1.0's packaging). */
  version: z.string().optional(),
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
