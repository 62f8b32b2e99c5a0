/**
 * The policy as loading it last gave it, kept in the state directory for the next `palisade apply` on the host:
 * the validated policy, its warnings, and the nft forms iptables-restore-translate gave its raw iptables rules.
 * An apply of an unchanged policy then neither parses its YAML again (cold, the larger part of a command-line
 * apply's own time) nor runs the translator.
 *
 * Loading is a function of the policy files' paths and texts, the warnings of reading them, /etc/services (port
 * names), the translator and /etc/protocols, and palisade's own code: all of them make the key (files by content,
 * the others by file identity or build). An entry is one file: `key`, then the sha256 of its payload, then the
 * payload; one for another key, or torn, or damaged, is not used and is replaced. A policy with errors, or a
 * translation that failed, is never kept. It is a cache, not state: losing it, or failing to write it, costs only the parse. It
 * is trusted as the state beside it is (root's directory, whose IR `palisade restore` loads). It is used only by
 * a build (src/self.ts buildIdentity), never from source, where an edit takes effect without a build.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawTranslation, RawTranslations } from '../compile/raw.ts';
import { fileIdentity } from '../file-identity.ts';
import { sha256 } from '../hash.ts';
import { translateRawRules, translatorIdentity } from '../kernel/iptables-translate.ts';
import { readPolicyFiles, type PolicyFiles } from '../policy/files.ts';
import type { LoadedPolicy } from '../policy/load.ts';
import { SERVICES_FILE } from '../policy/services.ts';
import { buildIdentity } from '../self.ts';

export const POLICY_CACHE_FILE = 'policy-cache.json';
/** How an entry is written; another format is another key. */
const FORMAT = 'palisade policy cache 1';

export interface TranslatedPolicy extends LoadedPolicy {
  rawTranslations: RawTranslations;
}

interface Payload extends LoadedPolicy {
  translations: Array<[string, RawTranslation]>;
}

/** Protocol names, which the translator may read or write (`-p gre`). */
const PROTOCOLS_FILE = '/etc/protocols';

function cacheKey(build: string, read: PolicyFiles): string {
  const system = [fileIdentity(SERVICES_FILE), fileIdentity(PROTOCOLS_FILE), translatorIdentity()];
  return sha256(JSON.stringify([FORMAT, build, system, read.files, read.diagnostics]));
}

async function readEntry(path: string, key: string): Promise<TranslatedPolicy | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  const keyEnd = text.indexOf('\n');
  const sumEnd = text.indexOf('\n', keyEnd + 1);
  if (keyEnd === -1 || sumEnd === -1 || text.slice(0, keyEnd) !== key) return null;
  const payload = text.slice(sumEnd + 1);
  if (sha256(payload) !== text.slice(keyEnd + 1, sumEnd)) return null;
  try {
    const { policy, diagnostics, translations } = JSON.parse(payload) as Payload;
    return { policy, diagnostics, rawTranslations: new Map(translations) };
  } catch {
    return null;
  }
}

/**
 * Written over the entry in place, not synced: the entry's own sum is what makes it whole. One torn by a crash or
 * a kill, or mixed by two writers at once, fails it and is parsed again; no temporary file is left behind.
 */
async function writeEntry(path: string, key: string, loaded: TranslatedPolicy): Promise<void> {
  const payload: Payload = { policy: loaded.policy, diagnostics: loaded.diagnostics, translations: [...loaded.rawTranslations] };
  const text = JSON.stringify(payload);
  await writeFile(path, `${key}\n${sha256(text)}\n${text}`, { mode: 0o600 }).catch(() => undefined);
}

/**
 * Loads the policy files and directories with the translations of their raw rules (as loadPolicy, then
 * translateRawRules), through the entry kept in `stateDir` when there is one for them; null: no cache.
 */
export async function loadTranslatedPolicy(paths: string[], stateDir: string | null, build: string | null = buildIdentity()): Promise<TranslatedPolicy> {
  const read = await readPolicyFiles(paths);
  const key = stateDir === null || build === null ? null : cacheKey(build, read);
  const path = stateDir === null ? '' : join(stateDir, POLICY_CACHE_FILE);
  const kept = key === null ? null : await readEntry(path, key);
  if (kept !== null) return kept;
  /* The parser is loaded only to parse: a kept policy needs none of it. */
  const { parseReadPolicy } = await import('../policy/load.ts');
  const loaded = parseReadPolicy(read);
  const translated = { ...loaded, rawTranslations: await translateRawRules(loaded.policy.raw) };
  /* A translator that failed (it could not start, say) may not fail next time: only answers are kept. */
  const answered = [...translated.rawTranslations.values()].every((t) => 'nft' in t);
  if (key !== null && answered) await writeEntry(path, key, translated);
  return translated;
}
