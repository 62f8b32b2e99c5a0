/** `palisade install-service`: write the systemd unit that runs `palisade restore` at boot. */
import { installService } from '../../apply/service.ts';
import { resolveStateDir } from '../../apply/state.ts';
import type { Output } from '../output.ts';

export interface InstallServiceOptions {
  unitDir: string;
  stateDir?: string;
}

export async function installServiceCommand(options: InstallServiceOptions, output: Output): Promise<number> {
  const path = await installService(options.unitDir, resolveStateDir(options.stateDir));
  output.out(`wrote ${path}; enable it with: systemctl daemon-reload && systemctl enable palisade-restore.service`);
  return 0;
}
