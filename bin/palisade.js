#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx palisade` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
// A reader that goes away (`palisade compile ... | head`) ends the output, not with a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
