/** Raw ("predefined") rules: backend text for nft and/or iptables, confined to palisade's own table and chains. */
import type { Node } from 'yaml';
import type { QueryNode } from '../query/ast.ts';
import type { RawRule } from './types.ts';
import { choiceField, nameField, stringField } from './fields.ts';
import { unsafeCharacter } from './raw-text.ts';
import { parseOn } from './rule.ts';
import { didYouMean } from '../suggest.ts';
import { IPTABLES_BUILTIN_CHAINS, NFT_TABLE_CHAIN_NAMES, type IptablesTableName } from '../layout.ts';
import type { Entry, SourceFile } from './yaml-source.ts';

const NFT_CHAINS = ['input', 'output', 'forward', ...NFT_TABLE_CHAIN_NAMES.keys()];
const TABLES = Object.keys(IPTABLES_BUILTIN_CHAINS) as IptablesTableName[];
const NFT_FORM = '"add rule inet palisade <input|output|forward|nat_prerouting|...> <rule>"';

type Iptables = NonNullable<RawRule['iptables']>;

/** The text of a raw rule field, refused when it contains a character that could inject commands. */
function safeText(file: SourceFile, entry: Entry, rule: string): string | null {
  const text = stringField(file, entry, rule);
  if (text === null || entry.value === null) return null;
  const unsafe = unsafeCharacter(text);
  if (unsafe === null) return text.trim();
  file.error(file.innerPos(entry.value, unsafe.index + 1), `"${entry.key}" ${unsafe.message}`, rule);
  return null;
}

function parseNft(file: SourceFile, entry: Entry, rule: string): RawRule['nft'] {
  const text = safeText(file, entry, rule);
  if (text === null) return null;
  const match = /^add\s+rule\s+inet\s+palisade\s+(\S+)(?:\s+(.*))?$/.exec(text);
  if (match === null) {
    file.error(entry.value, `"nft" must be ${NFT_FORM}: raw rules go into palisade's own table only`, rule);
    return null;
  }
  const chain = match[1] ?? '';
  if (!NFT_CHAINS.includes(chain)) {
    file.error(entry.value, `"nft": chain "${chain}" is not one of ${NFT_CHAINS.join(', ')}${didYouMean(chain, NFT_CHAINS)}`, rule);
    return null;
  }
  const body = match[2]?.trim() ?? '';
  if (body === '') {
    file.error(entry.value, `"nft": the rule after "${chain}" is missing`, rule);
    return null;
  }
  return { chain, rule: body };
}

/** `{ table, rule }`: our `iptables:` mapping, and AFW's predefined rule hash. */
export function parseIptables(file: SourceFile, entries: readonly Entry[], owner: Node, rule: string): Iptables | null {
  const tableEntry = entries.find((e) => e.key === 'table');
  const ruleEntry = entries.find((e) => e.key === 'rule');
  const table = tableEntry === undefined ? 'filter' : choiceField(file, tableEntry, TABLES, rule);
  if (ruleEntry === undefined) {
    file.error(owner, 'missing "rule": the iptables rule, as in "-A INPUT -p tcp --dport 80 -j ACCEPT"', rule);
    return null;
  }
  const text = safeText(file, ruleEntry, rule);
  if (text === null) return null;
  /* `-I CHAIN [1]` (AFW's README inserts this way) goes to the top of palisade's chain for CHAIN. */
  const match = /^-([AI])\s+(\S+)\s+(\S.*)$/.exec(text);
  if (match === null) {
    file.error(ruleEntry.value, '"rule" must be "-A <CHAIN> <rule>" or "-I <CHAIN> <rule>"', rule);
    return null;
  }
  const chain = match[2] ?? '';
  const insert = match[1] === 'I';
  const body = insert ? (match[3] ?? '').replace(/^1\s+(?=\S)/, '') : (match[3] ?? '');
  if (insert && /^\d+\s/.test(body)) {
    file.error(ruleEntry.value, '"rule": "-I <CHAIN> <N>" inserts at the top only (N = 1): palisade keeps its own order below', rule);
    return null;
  }
  if (!/^[A-Za-z0-9_-]{1,28}$/.test(chain)) {
    file.error(ruleEntry.value, `"rule": "${chain}" is not a chain name (up to 28 letters, digits, "_", "-")`, rule);
    return null;
  }
  if (table === null) return null;
  const builtins: readonly string[] = IPTABLES_BUILTIN_CHAINS[table];
  if (!builtins.includes(chain)) {
    file.error(
      ruleEntry.value,
      `"rule": in table ${table} the chain must be one of its built-in chains ${builtins.join(', ')}, not "${chain}"${didYouMean(chain, builtins)}: raw rules never go into other tools' chains`,
      rule,
    );
    return null;
  }
  return { table, chain, rule: body, insert };
}

/** A `raw:` entry of a policy document; null when it has any error. */
export function parseRawRule(file: SourceFile, name: string, nameNode: Node, value: Node | null): RawRule | null {
  const before = file.diagnostics.length;
  const entries = file.entries(value ?? nameNode, 'raw rule', { rule: name, known: ['on', 'env', 'nft', 'iptables'], noun: 'field' });
  if (entries === null) return null;
  let on: { text: string; query: QueryNode } | null = null;
  let env: string | null = null;
  let nft: RawRule['nft'] = null;
  let iptables: Iptables | null = null;
  for (const entry of entries) {
    if (entry.key === 'on') on = parseOn(file, entry, name);
    else if (entry.key === 'env') env = nameField(file, entry, 'environment', name);
    else if (entry.key === 'nft') nft = parseNft(file, entry, name);
    else {
      const fields = file.entries(entry.value ?? entry.keyNode, 'iptables', { rule: name, known: ['table', 'rule'], noun: 'key in "iptables"' });
      if (fields !== null) iptables = parseIptables(file, fields, entry.value ?? entry.keyNode, name);
    }
  }
  if (!entries.some((e) => e.key === 'nft' || e.key === 'iptables')) file.error(nameNode, 'a raw rule needs "nft", "iptables" or both', name);
  if (file.diagnostics.length !== before) return null;
  return rawRule(file, name, nameNode, on, env, nft, iptables);
}

/** A RawRule from validated parts, placed at its name. */
export function rawRule(
  file: SourceFile,
  name: string,
  nameNode: Node,
  on: { text: string; query: QueryNode } | null,
  env: string | null,
  nft: RawRule['nft'],
  iptables: Iptables | null,
): RawRule {
  return { name, on: on?.query ?? null, onText: on?.text ?? null, env, nft, iptables, origin: file.pos(nameNode) };
}
