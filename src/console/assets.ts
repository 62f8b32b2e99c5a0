/** The console's page: embedded in the bundle and the executable by scripts/build.js; built at start when running from source. */
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ConsoleAssets {
  html: string;
  css: string;
  js: string;
}

/** Defined by scripts/build.js in the bundle, as JSON text (see PALISADE_HELP_TOPICS); undeclared when running from source. */
declare const PALISADE_CONSOLE_ASSETS: string | undefined;

export async function consoleAssets(): Promise<ConsoleAssets> {
  if (typeof PALISADE_CONSOLE_ASSETS !== 'undefined') return JSON.parse(PALISADE_CONSOLE_ASSETS) as ConsoleAssets;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  /* A computed specifier: the bundle never includes the builder (nor esbuild). */
  const builder = pathToFileURL(`${root}scripts/console-ui.js`).href;
  const { bundleConsoleUi } = (await import(builder)) as typeof import('../../scripts/console-ui.js');
  return bundleConsoleUi(root);
}
