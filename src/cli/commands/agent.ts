/**
 * `palisade agent --host H`: keeps this host's ruleset current (composed and run by src/agent/run.ts: fleet
 * mode with --inventory etcd://..., else watching the files). Runs until SIGTERM or SIGINT; stopping leaves
 * the ruleset in place.
 */
import { runAgent, type AgentOptions } from '../../agent/run.ts';
import type { Output } from '../output.ts';
import { stopSignal } from '../stop-signal.ts';

export type { AgentOptions };

export async function agentCommand(options: AgentOptions, output: Output): Promise<number> {
  const mode = await runAgent(options, stopSignal);
  if (mode === 'fleet') output.out(`agent ${options.host} stopped`);
  return 0;
}
