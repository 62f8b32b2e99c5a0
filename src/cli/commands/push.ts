/** `palisade push`: validate the policy against the fleet and write it (src/app/push.ts); invalid: nothing written, exit 1. */
import { pushPolicy, type PushOptions } from '../../app/push.ts';
import { reportDiagnostics, type Output } from '../output.ts';

export async function pushCommand(options: PushOptions, output: Output): Promise<number> {
  const r = await pushPolicy(options);
  reportDiagnostics(output, r.diagnostics);
  output.out(`pushed policy ${r.policyRevision} (${r.rules} rules, ${r.files} file(s)) to ${r.url} at etcd revision ${r.etcdRevision}; compiled for ${r.hosts} host(s)`);
  return 0;
}
