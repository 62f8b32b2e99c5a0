/**
 * `palisade agent --host H`: keeps this host's ruleset current (composed and run by src/agent/run.ts: fleet
 * mode with --inventory etcd://..., else watching the files). Runs until SIGTERM or SIGINT; stopping leaves
 * the ruleset in place.
 */
import { runAgent, type AgentOptions } from '../../agent/run.ts';
import type { Output } from '../output.ts';

export type { AgentOptions };

/** Resolves on the first SIGTERM or SIGINT. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export async function agentCommand(options: AgentOptions, output: Output): Promise<number> {
  const mode = await runAgent(options, stopSignal);
  if (mode === 'fleet') output.out(`agent ${options.host} stopped`);
  return 0;
}
