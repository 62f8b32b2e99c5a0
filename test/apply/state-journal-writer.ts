/**
 * Child process for the journal crash test: announces `ready`, then records element-only changes of the
 * state directory's applied record (a web address added or replaced) again and again until it is killed.
 */
import { loadState, saveMembership } from '../../src/apply/state.ts';
import { nextRecord } from './journal-records.ts';

const dir = process.argv[2] as string;
process.stdout.write('ready\n');
for (let n = 0; ; n += 1) {
  const state = await loadState(dir);
  if (state.applied === null) throw new Error('no applied record');
  await saveMembership(dir, state, nextRecord(state.applied, `${process.pid}-${n}`, ['10.0.1.11', `10.0.3.${n % 250}`]));
}
