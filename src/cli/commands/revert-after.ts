/**
 * `palisade __revert-after DEADLINE --id ID` (hidden): the confirmation timer `apply --confirm` starts,
 * detached. Sleeps until the deadline, then reverts apply ID unless it was confirmed. Logs to its stdout,
 * which is the state directory's confirm-timer.log.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { revertIfPending } from '../../apply/lifecycle.ts';
import type { Output } from '../output.ts';
import { UsageError } from '../../diagnostics.ts';
import { hostContext, type HostOptions } from './host-options.ts';

export interface RevertAfterOptions extends HostOptions {
  id: string;
}

export async function revertAfterCommand(deadline: string, options: RevertAfterOptions, output: Output): Promise<number> {
  const at = Date.parse(deadline);
  if (Number.isNaN(at)) throw new UsageError(`invalid deadline ${JSON.stringify(deadline)}: expected an ISO 8601 time`);
  const log = (text: string): void => output.out(`${new Date().toISOString()} pid ${process.pid} apply ${options.id}: ${text}`);
  log(`waiting until ${deadline}`);
  await sleep(Math.max(0, at - Date.now()));
  try {
    const outcome = await revertIfPending(hostContext(options, [`__revert-after ${deadline}`]), options.id);
    log({ reverted: 'not confirmed in time: reverted to the previous ruleset', confirmed: 'confirmed: nothing to do', resynced: 'never recorded: the kernel was brought back to the recorded ruleset', 'in-sync': 'superseded: nothing to do' }[outcome]);
    return 0;
  } catch (cause) {
    log(`revert failed: ${(cause as Error).message}`);
    return 1;
  }
}
