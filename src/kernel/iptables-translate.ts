/**
 * The nft form of raw iptables rules that have none, through `iptables-restore-translate` (Debian's iptables
 * package): it reads the rule as iptables-restore does (quotes included), so what nft loads is what the iptables
 * backend would have loaded. The tool exits 0 also when it cannot translate a rule: it then prints the rule back
 * as a comment (`# -t filter -A ...`), which is read here as "cannot translate", never as an empty rule.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawTranslation, RawTranslations } from '../compile/raw.ts';
import type { RawRule } from '../policy/types.ts';
import { unsafeCharacter } from '../policy/raw-text.ts';
import { KernelError } from './error.ts';
import { execTool, toolFile } from './exec.ts';
import { fileIdentity } from '../file-identity.ts';

export const TRANSLATE_TOOL = 'iptables-restore-translate';

/** Which translator would run: the identity of its file (an upgrade of the iptables package changes it); null: none. */
export function translatorIdentity(): string | null {
  const file = toolFile(TRANSLATE_TOOL);
  return file === null ? null : fileIdentity(file);
}

/** Translations by rule text: a policy's raw rules rarely change, and the agent recompiles often. */
const translated = new Map<string, Promise<RawTranslation>>();
const TRANSLATIONS_KEPT = 1000;

/** Reads the tool's output for one rule of `table`/`chain`: the nft rule bodies, or why there are none. */
export function parseTranslation(output: string, table: string, chain: string): RawTranslation {
  const prefix = `add rule ip ${table} ${chain} `;
  const bodies: string[] = [];
  for (const line of output.split('\n').map((l) => l.trim())) {
    if (line === '' || /^# (?:Translated|Completed) /.test(line) || line === `add table ip ${table}`) continue;
    if (line.startsWith('#')) return { error: 'no nft equivalent for one of its matches or its target' };
    if (!line.startsWith(prefix)) return { error: `unexpected translation "${line.slice(0, 200)}"` };
    const body = line.slice(prefix.length).trim();
    const unsafe = unsafeCharacter(body);
    if (unsafe !== null || body === '') return { error: `the translation ${unsafe === null ? 'is empty' : unsafe.message}` };
    /* iptables rules are IPv4 rules (ip6tables has its own): in the inet table the translation must stay one. */
    bodies.push(`meta nfproto ipv4 ${body}`);
  }
  return bodies.length === 0 ? { error: 'the translation is empty' } : { nft: bodies };
}

/** The tool reads a file only (not a pipe or socket as stdin): the rule goes through a private temporary file. */
async function translateOne(table: string, chain: string, rule: string): Promise<RawTranslation> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-translate-'));
  let result: Awaited<ReturnType<typeof execTool>>;
  try {
    const file = join(dir, 'rule');
    await writeFile(file, `*${table}\n-A ${chain} ${rule}\nCOMMIT\n`, { mode: 0o600 });
    result = await execTool({ netns: null }, TRANSLATE_TOOL, ['-f', file]);
  } catch (cause) {
    if (cause instanceof KernelError) return { error: `${TRANSLATE_TOOL} cannot run (Debian package iptables): ${cause.message}` };
    throw cause;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (result.code !== 0) {
    const reason = result.stderr.split('\n').find((l) => l.trim() !== '')?.trim() ?? `exit ${result.code}`;
    return { error: reason.replace(/^\S+ v[\d.]+ \([^)]*\): /, '').slice(0, 300) };
  }
  return parseTranslation(result.stdout, table, chain);
}

/** The translation of every raw rule that has an iptables form and no nft form, by rule name. */
export async function translateRawRules(rules: readonly RawRule[]): Promise<RawTranslations> {
  const wanted = rules.filter((r) => r.nft === null && r.iptables !== null);
  const answers = await Promise.all(
    wanted.map((rule) => {
      const { table, chain, rule: text } = rule.iptables as NonNullable<RawRule['iptables']>;
      const key = JSON.stringify([table, chain, text]);
      let answer = translated.get(key);
      if (answer === undefined) {
        answer = translateOne(table, chain, text);
        if (translated.size >= TRANSLATIONS_KEPT) translated.clear();
        translated.set(key, answer);
        /* A translator that could not run may run next time: only its answers are kept. */
        void answer.then((a) => 'error' in a && a.error.startsWith(`${TRANSLATE_TOOL} cannot run`) && translated.delete(key));
      }
      return answer;
    }),
  );
  return new Map(wanted.map((rule, i) => [rule.name, answers[i] as RawTranslation]));
}
