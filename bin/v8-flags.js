// V8's settings for palisade's process, given before any of palisade's code is compiled: by bin/palisade.js, and
// by the first line of the single executable's bundle (scripts/build.js). Code caches hold for the settings they
// were made under (V8 refuses the others), so what bin/palisade.js caches is made and read under these.
//
// No Sparkplug (V8's baseline compiler). A command runs for a third of a second: Sparkplug compiled machine code
// for functions that then ran a few times, and took 9 MB that this machine faults in a page at a time, about
// 25 ms of an element-only `palisade apply` (npm run bench). Hot functions still go to TurboFan, so a long run (a
// compile of 100,000 hosts, the agent) loses nothing measurable (bench/run.ts runs under the same settings).
'use strict';

const V8_FLAGS = '--no-sparkplug';

module.exports = { V8_FLAGS };
