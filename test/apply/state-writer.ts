/** Child process for the crash test: writes the state read from a JSON file into the state directory. */
import { readFileSync } from 'node:fs';
import { saveState, type State } from '../../src/apply/state.ts';

const [dir, source] = process.argv.slice(2);
const state = JSON.parse(readFileSync(source as string, 'utf8')) as State;
await saveState(dir as string, state);
process.stdout.write('written\n');
