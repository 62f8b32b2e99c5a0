// V8's settings for palisade's process, given before any of palisade's code is compiled: by bin/palisade.js, and
// by the first line of the single executable's bundle (scripts/build.js). Code caches hold for the settings they
// were made under (V8 refuses the others), so what bin/palisade.js caches is made and read under these.
//
// No Sparkplug (V8's baseline compiler). A command runs for a third of a second: Sparkplug compiled machine code
// for functions that then ran a few times, and took 9 MB that this machine faults in a page at a time, about
// 25 ms of an element-only `palisade apply` (npm run bench). Hot functions still go to TurboFan, so a long run (a
// compile of 100,000 hosts, the agent) loses nothing measurable (bench/run.ts runs under the same settings).
//
// A young generation that does not grow (it starts at 1 MB a semi-space). A command's objects mostly live until
// it ends: V8 copied them at each scavenge into a young generation it doubled each time, new pages that this
// machine faults in one at a time; kept small, its pages are used again. An element-only `palisade apply` takes
// 8 ms less (299 -> 291 ms, median of 30 alternated). The price is paid at scale: push's validation of 100,000
// hosts takes 4-11 % longer (13.2 -> 13.7-14.7 s) and 10 % less memory; one host's compile among them is no slower.
'use strict';

const V8_FLAGS = '--no-sparkplug --semi-space-growth-factor=1';

module.exports = { V8_FLAGS };
