/**
 * `palisade __revert-after DEADLINE --id ID` (hidden): the confirmation timer `apply --confirm` starts,
 * detached. Sleeps until the deadline, then reverts apply ID unless it was confirmed. It logs to the state
 * directory's confirm-timer.log, or to the system log when that cannot be written, and a revert that fails
 * (lock held, a kernel tool failing, a state directory that cannot record it) is tried again with a growing
 * pause for up to an hour: the timer never gives up silently.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { timerLogger } from '../../apply/confirm.ts';
import { revertIfPending } from '../../apply/lifecycle.ts';
import { UsageError } from '../../diagnostics.ts';
import { hostContext, type HostOptions } from '../../app/host.ts';

export interface RevertAfterOptions extends HostOptions {
  id: string;
}

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;
const RETRY_FOR_MS = 3_600_000;

export async function revertAfterCommand(deadline: string, options: RevertAfterOptions): Promise<number> {
  const at = Date.parse(deadline);
  if (Number.isNaN(at)) throw new UsageError(`invalid deadline ${JSON.stringify(deadline)}: expected an ISO 8601 time`);
  const ctx = hostContext(options, [`__revert-after ${deadline}`]);
  const log = timerLogger(ctx.stateDir, `pid ${process.pid} apply ${options.id}`);
  log(`waiting until ${deadline}`);
  await sleep(Math.max(0, at - Date.now()));
  const giveUp = Date.now() + RETRY_FOR_MS;
  for (let pause = RETRY_FIRST_MS; ; pause = Math.min(pause * 2, RETRY_MAX_MS)) {
    try {
      const outcome = await revertIfPending(ctx, options.id);
      log(
        {
          reverted: 'not confirmed in time: reverted to the previous ruleset',
          confirmed: 'confirmed: nothing to do',
          resynced: 'never recorded: the kernel was brought back to the recorded ruleset',
          'in-sync': 'superseded: nothing to do',
        }[outcome],
      );
      return 0;
    } catch (cause) {
      const last = Date.now() + pause > giveUp;
      log(`revert failed: ${(cause as Error).message}${last ? '; giving up: run `palisade rollback`' : `; trying again in ${pause / 1000}s`}`);
      if (last) return 1;
      await sleep(pause);
    }
  }
}
