/**
 * The process entry (bin/palisade.js from source, the bundle, the single executable): the lab's probe agent
 * when asked for it, the command line otherwise. Modules load on demand, so a probe agent starts small.
 */
import { PROBE_AGENT_COMMAND } from '../self.ts';

async function run(argv: string[]): Promise<void> {
  if (argv[2] === PROBE_AGENT_COMMAND) {
    const { runProbeAgent } = await import('../lab/probe-agent.ts');
    runProbeAgent(argv.slice(3));
    return;
  }
  // A reader that goes away (`palisade compile ... | head`) ends the output, not with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const { main } = await import('./main.ts');
  process.exitCode = await main(argv);
  /*
   * When nothing is left to run, node tears V8's heap down before it exits, which no one waits for: ~10 ms of a
   * short command. Exiting from the last 'exit' listener skips that; the listeners before it have run.
   */
  process.once('exit', () => process.exit());
}

void run(process.argv);
