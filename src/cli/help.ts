/** `palisade help [TOPIC]`: the pages of docs/, embedded in the bundle and the executable by scripts/build.js; read from the repository when running from source. */
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Defined by scripts/build.js in the bundle (JSON text: a string is inlined where it is used, in this command's
 * chunk, where an object would be lifted into a chunk every command loads); undeclared when running from source.
 */
declare const PALISADE_HELP_TOPICS: string | undefined;

export async function helpTopics(): Promise<Record<string, string>> {
  if (typeof PALISADE_HELP_TOPICS !== 'undefined') return JSON.parse(PALISADE_HELP_TOPICS) as Record<string, string>;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  /* A computed specifier: the bundle never includes the reader. */
  const reader = pathToFileURL(`${root}scripts/docs.js`).href;
  const { readHelpTopics } = (await import(reader)) as typeof import('../../scripts/docs.js');
  return readHelpTopics(root);
}
