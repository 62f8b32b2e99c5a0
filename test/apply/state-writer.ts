/**
 * Child process for the crash test: announces `ready`, then writes the state read from a JSON file into the
 * state directory again and again (the applied record's id numbered `<id>-<n>`) until it is killed.
 */
import { readFileSync } from 'node:fs';
import { saveState, type State } from '../../src/apply/state.ts';

const [dir, source] = process.argv.slice(2);
const state = JSON.parse(readFileSync(source as string, 'utf8')) as State;
process.stdout.write('ready\n');
for (let n = 0; ; n += 1) {
  if (state.applied !== null) state.applied.id = `${state.applied.id.replace(/-\d+$/, '')}-${n}`;
  await saveState(dir as string, state);
}
