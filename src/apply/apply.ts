/**
 * `palisade apply`: guard the SSH session, take the lock, detect drift, then load the ruleset (a full
 * atomic reload, or element updates when only set membership changed), record it, and when asked arm a
 * confirmation timer that reverts unless `palisade confirm` runs in time. Exported for the fleet agent.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Ruleset } from '../compile/ir.ts';
import { diffRulesets, type RulesetDiff } from '../compile/diff.ts';
import { InputError, OperationError, UsageError, error } from '../diagnostics.ts';
import type { Backend, BackendName } from '../kernel/backend.ts';
import { interfaceHolding } from '../kernel/interfaces.ts';
import { backendFor } from '../kernel/load.ts';
import { killTimer, spawnTimer } from './confirm.ts';
import { MAX_DURATION_MS } from '../duration.ts';
import type { HostContext } from './context.ts';
import { detectDrift, type Drift } from './drift.ts';
import { earlyListingFor, type EarlyListing } from './early-listing.ts';
import { withLock } from './lock.ts';
import { checkSshPeer, parseSshConnection, type GuardVerdict } from './ssh-guard.ts';
import { afterMembership, hashRuleset, loadState, membershipEdits, newId, sameRuleset, saveMembership, saveState, type AppliedRecord, type Pending, type SetEdit, type State } from './state.ts';

/** An apply that failed; `unchanged` says whether the kernel holds what it held before. */
export class ApplyError extends OperationError {
  override readonly name = 'ApplyError';

  constructor(message: string, options: { unchanged: boolean; cause?: unknown }) {
    super(message, { ...options, kind: 'kernel' });
  }
}

export interface ApplyRequest {
  ruleset: Ruleset;
  backend: BackendName;
  dryRun: boolean;
  /** Skip the SSH-session guard. */
  force: boolean;
  /** Revert unless confirmed within this many milliseconds; null: no confirmation. */
  confirmMs: number | null;
  /** The SSH_CONNECTION of the session applying, if any. */
  sshConnection: string | undefined;
  /** The kernel's listing, asked for before the ruleset was compiled (the command line: listKernelEarly). */
  earlyListing?: EarlyListing | null;
}

export type ApplyMode = 'full' | 'membership' | 'unchanged' | 'dry-run';

export interface ApplyReport {
  mode: ApplyMode;
  id: string;
  /** hashRuleset of the ruleset: its identity. */
  hash: string;
  /** What the backend loads for it: only for a dry run (null otherwise, nothing is rendered twice). */
  rendered: string | null;
  /** Against what was applied before. */
  diff: RulesetDiff;
  drift: Drift;
  guard: GuardVerdict | null;
  pending: Pending | null;
  warnings: string[];
}

async function guardSsh(ctx: HostContext, request: ApplyRequest): Promise<GuardVerdict | null> {
  const peer = parseSshConnection(request.sshConnection);
  if (peer === null) return null;
  return checkSshPeer(request.ruleset, peer, await interfaceHolding(ctx.target, peer.serverIp));
}

function record(ctx: HostContext, request: ApplyRequest, id: string, hash: string): Omit<AppliedRecord, 'listing'> {
  const rs = request.ruleset;
  return {
    id,
    host: rs.host,
    backend: request.backend,
    ruleset: rs,
    hash,
    policyRevision: rs.policyRevision,
    inventoryRevision: rs.inventoryRevision,
    appliedAt: new Date().toISOString(),
    command: ctx.command,
  };
}

/** The rollback target after this apply: an unconfirmed apply is never one, the last confirmed state stays. */
function nextPrevious(state: State): State['previous'] {
  return state.pending !== null ? state.previous : { record: state.applied };
}

const describeRecord = (record: AppliedRecord | null): string => (record === null ? 'no palisade ruleset' : `apply ${record.id} (${record.backend}, sha256 ${record.hash.slice(0, 12)})`);
const message = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));

/**
 * A load that failed. The backends load all or nothing; should the kernel nevertheless no longer hold what was
 * applied (and did before), the applied ruleset is loaded again. Says whether the kernel is as it was.
 */
async function failedLoad(ctx: HostContext, current: AppliedRecord | null, driftBefore: Drift, cause: unknown): Promise<ApplyError> {
  if (current === null || driftBefore.drifted) return new ApplyError(message(cause), { unchanged: true, cause });
  try {
    if (!(await detectDrift(current, current.backend, ctx.target)).drifted) return new ApplyError(message(cause), { unchanged: true, cause });
    await backendFor(current.backend, ctx.target).load(current.ruleset);
    return new ApplyError(`${message(cause)}\n(the load was partial: the previously applied ruleset was loaded again)`, { unchanged: true, cause });
  } catch (again) {
    return new ApplyError(`${message(cause)}\n(the load may have been partial, and loading ${describeRecord(current)} again failed: ${message(again)}); run \`palisade restore\``, { unchanged: false, cause });
  }
}

/**
 * Something after the kernel load failed (reading the listing back, writing the state): the kernel returns to
 * what the state still records, so state and kernel agree again, and the error says precisely what is loaded.
 */
async function returnToRecorded(ctx: HostContext, loaded: Backend, hash: string, current: AppliedRecord | null, driftBefore: Drift, cause: unknown): Promise<ApplyError> {
  const what = `the ruleset was loaded, but recording it failed: ${message(cause)}`;
  try {
    if (current === null) await loaded.remove();
    else {
      await backendFor(current.backend, ctx.target).load(current.ruleset);
      if (current.backend !== loaded.name) await loaded.remove();
    }
  } catch (again) {
    return new ApplyError(
      `${what}\nreturning to ${describeRecord(current)} failed too (${message(again)}): the kernel holds the new ruleset (${loaded.name}, sha256 ${hash.slice(0, 12)}), which the state does not record. Free the state directory, then apply again, or run \`palisade restore\` to load what the state records`,
      { unchanged: false, cause },
    );
  }
  const drifted = driftBefore.drifted ? ' (the drift it had before this apply is gone)' : '';
  return new ApplyError(`${what}\nthe kernel was returned to ${describeRecord(current)}, which the state records${drifted}`, { unchanged: !driftBefore.drifted, cause });
}

/**
 * What this process last verified about the kernel, per state directory and target: that it held applied
 * record `id` when the backend's generation mark was `mark`. Only a long-lived caller that watches the kernel
 * (HostContext.watchKernel) has marks; equal marks then stand for a listing without drift.
 */
const verified = new Map<string, { id: string; mark: number }>();
const verifiedKey = (ctx: HostContext): string => `${ctx.stateDir}\0${ctx.target.netns ?? ''}`;

function knownUnchanged(ctx: HostContext, backend: Backend, applied: AppliedRecord | null): number | null {
  const v = verified.get(verifiedKey(ctx));
  const mark = backend.generation?.() ?? null;
  return applied !== null && v !== undefined && mark !== null && v.id === applied.id && v.mark === mark ? mark : null;
}

const noDrift = (backend: BackendName): Drift => ({ drifted: false, backend, extra: [], missing: [] });
const NO_CHANGE: RulesetDiff = { rulesAdded: [], rulesRemoved: [], setsAdded: [], setsRemoved: [], elementsAdded: {}, elementsRemoved: {}, membershipOnly: false, unchanged: true };

/**
 * The kernel against what the state records: known without a listing when the watched generation has not
 * moved since this process verified it; else listed and compared. Returns the drift and the mark at which
 * the kernel was seen to hold the record (null: not known).
 */
async function kernelAgainst(ctx: HostContext, backend: Backend, current: AppliedRecord | null, request: ApplyRequest): Promise<{ drift: Drift; knownAt: number | null }> {
  const name = request.backend;
  const known = knownUnchanged(ctx, backend, current);
  if (known !== null) return { drift: noDrift(name), knownAt: known };
  const mark = backend.generation?.() ?? null;
  const drift = await detectDrift(current, name, ctx.target, earlyListingFor(ctx, current?.backend ?? name, request.earlyListing));
  return { drift, knownAt: drift.drifted || current === null || current.backend !== backend.name ? null : mark };
}

/**
 * Loads the ruleset: a full atomic reload, or element updates when only set membership changed; arms the
 * confirmation timer first when asked. An unchanged ruleset costs, for a caller watching the kernel, two
 * stats of the state files and a comparison with the applied IR (sameRuleset): no lock, no kernel tool, no hash.
 */
export async function applyRuleset(ctx: HostContext, request: ApplyRequest): Promise<ApplyReport> {
  if (request.confirmMs !== null && !(request.confirmMs > 0 && request.confirmMs <= MAX_DURATION_MS)) {
    throw new UsageError(`the confirmation time must be between 1 ms and 24 h (got ${request.confirmMs} ms)`);
  }
  const backend = backendFor(request.backend, ctx.target);
  if (ctx.watchKernel === true) {
    await backend.watch?.();
    /* One turn of the event loop: a change the generation watch has already reported (its line waiting in the pipe) is counted before its mark is read. */
    await nextTurn();
  }
  if (!request.dryRun && request.confirmMs === null) {
    /* Read without the lock: the state file is replaced atomically, and nothing is written on this path. */
    const { applied, pending } = await loadState(ctx.stateDir);
    if (applied !== null && pending === null && applied.backend === request.backend && knownUnchanged(ctx, backend, applied) !== null && sameRuleset(applied.ruleset, request.ruleset)) {
      return { mode: 'unchanged', id: applied.id, hash: applied.hash, rendered: null, diff: NO_CHANGE, drift: noDrift(request.backend), guard: null, pending: null, warnings: [] };
    }
  }
  const guard = await guardSsh(ctx, request);
  if (guard !== null && !guard.allowed && !request.force && !request.dryRun) {
    throw new InputError([error(guard.reason, { host: request.ruleset.host })]);
  }
  return withLock(ctx.stateDir, ctx.lockTimeoutMs, async () => {
    const state = await loadState(ctx.stateDir);
    const current = state.applied;
    const { drift, knownAt } = await kernelAgainst(ctx, backend, current, request);
    const diff = diffRulesets(current?.ruleset ?? null, request.ruleset);
    const id = newId();
    const base = { id, rendered: null, diff, drift, guard, warnings: [] as string[] };
    if (request.dryRun) {
      await backend.check(request.ruleset);
      return { ...base, hash: hashRuleset(request.ruleset), rendered: backend.render(request.ruleset), mode: 'dry-run', pending: state.pending };
    }
    const sameBackend = current?.backend === request.backend;
    if (diff.unchanged && sameBackend && !drift.drifted && state.pending === null && request.confirmMs === null) {
      if (knownAt !== null && current !== null) verified.set(verifiedKey(ctx), { id: current.id, mark: knownAt });
      return { ...base, id: current?.id ?? id, hash: hashRuleset(request.ruleset), mode: 'unchanged', pending: null };
    }
    const membership = current !== null && diff.membershipOnly && sameBackend && !drift.drifted;
    const deadline = request.confirmMs === null ? null : new Date(Date.now() + request.confirmMs);
    /* Armed before the kernel changes: an applier killed at any later point is still reverted. */
    const timerPid = deadline === null ? null : await spawnTimer(id, deadline, ctx.stateDir, ctx.target);
    const warnings: string[] = [];
    verified.delete(verifiedKey(ctx));
    let hash: string;
    let edits: SetEdit[] | null = null;
    try {
      /* The kernel tool's process is started when the call returns: the IR is hashed while it runs, and a change of members gets its journal line's edits. */
      const loading = membership ? backend.updateMembership(current.ruleset, request.ruleset).then(() => []) : backend.load(request.ruleset);
      hash = hashRuleset(request.ruleset);
      if (membership) edits = membershipEdits(current.ruleset, request.ruleset);
      warnings.push(...(await loading));
    } catch (cause) {
      await killTimer(timerPid, id);
      throw await failedLoad(ctx, current, drift, cause);
    }
    /*
     * Exactly one change since the kernel was known to hold `current`: this one. A process that does not watch
     * the kernel (the command line) records what it applied without listing the kernel again: a change by another
     * tool in the instant between its drift check and its load shows as drift at the next check, where a listing
     * taken now would record it as palisade's.
     */
    const after = backend.generation?.() ?? null;
    const deriveListing = (knownAt !== null && after === knownAt + 1) || ctx.watchKernel !== true;
    const pending = deadline === null ? null : { id, deadline: deadline.toISOString(), timerPid };
    try {
      if (current !== null && !sameBackend) {
        await backendFor(current.backend, ctx.target)
          .remove()
          .catch((cause: Error) => warnings.push(`the previous ${current.backend} ruleset could not be removed: ${cause.message}`));
      }
      const fields = record(ctx, request, id, hash);
      const derived = membership && deriveListing ? afterMembership(current, fields) : null;
      const applied = derived ?? { ...fields, listing: await backend.listing() };
      /* A change of members, its listing derived: one journal line (saveMembership writes whole what it cannot append). */
      if (derived !== null && pending === null && state.pending === null) await saveMembership(ctx.stateDir, state, applied, edits);
      else await saveState(ctx.stateDir, { version: state.version, applied, previous: nextPrevious(state), pending });
      if (after !== null) verified.set(verifiedKey(ctx), { id, mark: after });
    } catch (cause) {
      await killTimer(timerPid, id);
      throw await returnToRecorded(ctx, backend, hash, current, drift, cause);
    }
    /* Only once this apply is recorded: until then, an earlier pending apply's timer still guards the kernel. */
    if (state.pending !== null) await killTimer(state.pending.timerPid, state.pending.id);
    return { ...base, hash, mode: membership ? 'membership' : 'full', pending, warnings };
  });
}
