/**
 * Every rendered ruleset of the bundled example is accepted by the real kernel: checked (`nft -c`,
 * `iptables-restore --test`) and then really loaded, each host in a throwaway network namespace.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadWorkspace } from '../../src/app/workspace.ts';
import { renderIptables } from '../../src/render/iptables.ts';
import { renderNft } from '../../src/render/nft.ts';
import { inNamespace, skipUnlessRoot as skip } from '../helpers/netns.ts';

describe('the kernel accepts every ruleset of the example', { skip }, async () => {
  const ws = await loadWorkspace({ resolve: false });
  for (const rs of ws.compiler.compileAll()) {
    it(`${rs.host}: nft -c, then nft -f`, () => {
      inNamespace('pal-ex', (exec) => {
        const script = renderNft(rs);
        exec('nft', ['-c', '-f', '-'], script);
        exec('nft', ['-f', '-'], script);
        assert.match(exec('nft', ['list', 'table', 'inet', 'palisade']), /chain input \{/);
      });
    });
    it(`${rs.host}: ipset restore, iptables-restore --test, then load`, () => {
      inNamespace('pal-ex', (exec) => {
        const files = renderIptables(rs).toText();
        exec('ipset', ['restore'], files.ipset);
        exec('iptables-restore', ['--test', '--noflush'], files.v4);
        exec('ip6tables-restore', ['--test', '--noflush'], files.v6);
        exec('iptables-restore', ['--noflush'], files.v4);
        exec('ip6tables-restore', ['--noflush'], files.v6);
        assert.match(exec('iptables', ['-S', 'INPUT']), /-j PALISADE-INPUT/);
        assert.match(exec('ip6tables', ['-S', 'OUTPUT']), /-j PALISADE-OUTPUT/);
      });
    });
  }
});
