// The console's page: src/console/ui/main.ts bundled for the browser (one script, no inline code: the page's
// Content-Security-Policy allows scripts only from the console's origin), with index.html and style.css.
// scripts/build.js embeds the result in the CLI bundle; from source, src/console/assets.ts calls this at start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export async function bundleConsoleUi(root) {
  const ui = join(root, 'src/console/ui');
  const result = await build({
    entryPoints: [join(ui, 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome100',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  if (result.errors.length > 0) throw new Error('the console page did not build');
  return {
    html: readFileSync(join(ui, 'index.html'), 'utf8'),
    css: readFileSync(join(ui, 'style.css'), 'utf8'),
    js: result.outputFiles[0].text,
  };
}
