/** `npm run bench`: every benchmark, each against its baseline measured in the same run. */
import './palisade-v8.ts';
import { benchApply } from './apply.ts';
import { benchCompile } from './compile.ts';
import { benchConsole } from './console.ts';
import { benchConvergence } from './convergence.ts';
import { benchFleetSim } from './fleet-sim.ts';
import { benchInventory } from './inventory.ts';
import { benchJoin } from './join.ts';
import { benchPacketPath } from './packet-path.ts';
import { benchStartup } from './startup.ts';

const sections = [benchStartup(), benchInventory(), benchCompile(), await benchApply(), await benchConvergence(), await benchJoin(), await benchFleetSim(), await benchConsole(), await benchPacketPath()];
process.stdout.write(`${sections.join('\n')}\n`);
