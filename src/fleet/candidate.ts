/**
 * `policy-candidate`: a policy under canary rollout (`push --canary`): the policy record as `policy` holds it,
 * the canary hosts, and when the rollout started. Only the canaries apply it; `push` promotes it to `policy`
 * or deletes it, and the canaries return to `policy`.
 */
import * as z from 'zod/mini';
import '../schema.ts';

export interface Candidate {
  /** The policy record (src/fleet/policy-record.ts), as text. */
  policy: string;
  canaries: string[];
  startedAt: string;
  /** How long a canary keeps the current policy after it sees the candidate, reporting its drops (the gate's baseline). */
  baselineMs?: number;
}

const schema = z.object({ policy: z.string(), canaries: z.array(z.string()), startedAt: z.string(), baselineMs: z.optional(z.int().check(z.minimum(0), z.maximum(600_000))) });

export const encodeCandidate = (candidate: Candidate): string => JSON.stringify(candidate);

/** The candidate, or null when the value is not one (a reader then ignores it: only `policy` counts). */
export function decodeCandidate(value: string): Candidate | null {
  try {
    const parsed = schema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
