/** `npm run bench`: every benchmark, each against its baseline measured in the same run. */
import { benchCompile } from './compile.ts';

const sections = [benchCompile()];
process.stdout.write(`${sections.join('\n')}\n`);
