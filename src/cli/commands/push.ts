/** `palisade push`: validate the policy against the fleet and write it (src/app/push.ts); invalid: nothing written, exit 1. */
import { pushPolicy, type PushOptions } from '../../app/push.ts';
import { reportDiagnostics, type Output } from '../output.ts';
import { progress, type Progress } from '../terminal.ts';

export async function pushCommand(options: PushOptions, output: Output): Promise<number> {
  let bar: Progress | null = null;
  const onHost = (done: number, total: number): void => {
    bar ??= progress('validating the policy on every host', total);
    bar.tick(done);
    if (done === total) bar.end();
  };
  const r = await pushPolicy({ ...options, progress: (line) => output.out(line), onHost });
  reportDiagnostics(output, r.diagnostics);
  const canary = r.canaries === null ? '' : ` after canaries ${r.canaries.join(', ')} passed`;
  output.out(`pushed policy ${r.policyRevision} (${r.rules} rules, ${r.files} file(s)) to ${r.url} at etcd revision ${r.etcdRevision}${canary}; compiled for ${r.hosts} host(s)`);
  return 0;
}
