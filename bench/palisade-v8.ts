/**
 * Imported first by every benchmark process (bench/run.ts and the children it starts): what they measure of
 * palisade in process runs under the V8 settings palisade's own process has (bin/v8-flags.js).
 */
import { setFlagsFromString } from 'node:v8';
import { V8_FLAGS } from '../bin/v8-flags.js';

setFlagsFromString(V8_FLAGS);
