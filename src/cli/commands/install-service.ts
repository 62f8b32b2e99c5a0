/** `palisade install-service`: write the systemd units (restore at boot, the agent), running this same palisade. */
import { AGENT_ENV_FILE, AGENT_UNIT, installService, RESTORE_UNIT } from '../../apply/service.ts';
import { resolveStateDir } from '../../apply/state.ts';
import type { Output } from '../output.ts';

export interface InstallServiceOptions {
  unitDir: string;
  stateDir?: string;
}

export async function installServiceCommand(options: InstallServiceOptions, output: Output): Promise<number> {
  const paths = await installService(options.unitDir, resolveStateDir(options.stateDir));
  output.out(`wrote ${paths.join(', ')}`);
  output.out(`enable them with: systemctl daemon-reload && systemctl enable ${RESTORE_UNIT} && systemctl enable --now ${AGENT_UNIT} (after setting the agent's flags in ${AGENT_ENV_FILE})`);
  return 0;
}
