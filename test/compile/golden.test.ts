/**
 * Golden files: every host of the bundled example, rendered for both backends. A change in output shows up
 * as a diff in review; regenerate with `UPDATE_GOLDEN=1 npm test` after checking it is intended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadWorkspace } from '../../src/app/workspace.ts';
import { renderIptables } from '../../src/render/iptables.ts';
import { renderNft } from '../../src/render/nft.ts';

const GOLDEN = 'test/golden/shop';
const update = process.env.UPDATE_GOLDEN === '1';

test('the bundled example renders exactly as the golden files', async () => {
  const ws = await loadWorkspace({ resolve: false });
  mkdirSync(GOLDEN, { recursive: true });
  let compared = 0;
  for (const rs of ws.compiler.compileAll()) {
    const ipt = renderIptables(rs).toText();
    const files: Record<string, string> = {
      [`${rs.host}.nft`]: renderNft(rs),
      [`${rs.host}.ipset`]: ipt.ipset,
      [`${rs.host}.rules.v4`]: ipt.v4,
      [`${rs.host}.rules.v6`]: ipt.v6,
    };
    for (const [name, content] of Object.entries(files)) {
      const path = join(GOLDEN, name);
      if (update) writeFileSync(path, content);
      assert.ok(existsSync(path), `${path} is missing: run UPDATE_GOLDEN=1 npm test`);
      assert.equal(content, readFileSync(path, 'utf8'), `${path} differs from the rendered ruleset`);
      compared++;
    }
  }
  assert.ok(compared > 0);
});
