import { writeUserFiles } from '../../app/files.ts';
import { renderIptables } from '../../render/iptables.ts';
import { nftLoadScript } from '../../kernel/nft.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { toJson, type Output } from '../output.ts';
import { compileHost, loadWorkspace } from '../../app/workspace.ts';

export type CompileFormat = 'nft' | 'iptables' | 'json';

export interface CompileOptions extends ConfigOverrides {
  host: string;
  format: CompileFormat;
  out?: string;
}

export const IPTABLES_FILES = ['ipset.restore', 'rules.v4', 'rules.v6'] as const;

export async function compileCommand(options: CompileOptions, output: Output): Promise<number> {
  const ws = await loadWorkspace(options);
  const rs = compileHost(ws, options.host);
  for (const w of rs.warnings) output.err(`warning: host "${rs.host}": ${w}`);
  if (options.format === 'json') {
    output.out(toJson(rs));
  } else if (options.format === 'nft') {
    /* A complete script: it replaces the table, so loading it again (a reload of /etc/nftables.d) leaves one copy. */
    const script = nftLoadScript(rs);
    if (options.out === undefined) output.out(script);
    else await writeUserFiles(options.out, [{ name: 'ruleset.nft', text: script }]);
  } else {
    const files = renderIptables(rs).toText();
    const contents = [files.ipset, files.v4, files.v6];
    if (options.out === undefined) {
      IPTABLES_FILES.forEach((name, i) => output.out(`# ==> ${name} <==\n${contents[i]}`));
    } else {
      await writeUserFiles(options.out, IPTABLES_FILES.map((name, i) => ({ name, text: contents[i] as string })));
    }
  }
  return 0;
}
