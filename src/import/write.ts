/**
 * An imported ruleset as a Palisade policy file: settings from the tool's defaults, one rule per expressible
 * rule in the tool's order (ties of `order` keep file order), raw iptables rules for the rest, and a header
 * listing every line that was not imported and why. Values are written as JSON strings, which YAML reads as
 * they are, so no input text can become YAML syntax.
 */
import { formatPorts } from '../policy/ports.ts';
import type { PortRange } from '../policy/types.ts';
import { anyAddress, type ImportedEntry, type ImportedPolicy, type ImportedRule } from './model.ts';

const q = (text: string): string => JSON.stringify(text);
const portsYaml = (ranges: readonly PortRange[]): string => `[${ranges.map((r) => (r.from === r.to ? `${r.from}` : q(`${r.from}:${r.to}`))).join(', ')}]`;
/** A comment line: the text on one line, control characters shown escaped. */
const comment = (text: string): string => `# ${JSON.stringify(text).slice(1, -1)}`;
const MAX_NAME = 200;

function summary(e: ImportedEntry): string {
  const proto = e.kind === 'rule' ? e.protocol : e.known.protocol;
  const rule = e.kind === 'rule' ? e : { ...e.known, action: 'raw' };
  const ports = rule.dport === null ? '' : `/${formatPorts(rule.dport)}`;
  const peers = rule.peers.length === 0 ? 'any' : rule.peers.join(',');
  const user = rule.user === null ? '' : ` as ${rule.user.name}`;
  return `${rule.action} ${proto}${ports} ${rule.direction === 'in' ? 'from' : 'to'} ${peers}${user}`;
}

function nameOf(e: ImportedEntry, taken: Set<string>): string {
  const at = `${e.place.file.split('/').at(-1)}:${e.place.line}`;
  const own = e.kind === 'rule' && e.name !== null && e.name.trim() !== '' ? e.name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').trim() : null;
  const base = (own ?? `${at} ${summary(e)}`).slice(0, MAX_NAME - 8);
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base} (${n})`;
  taken.add(name.toLowerCase());
  return name;
}

function ruleLines(r: ImportedRule, name: string, on: string | null): string[] {
  const lines = [`  ${q(name)}:`];
  if (on !== null) lines.push(`    on: ${q(on)}`);
  lines.push(`    direction: ${r.direction}`, `    protocol: ${r.protocol}`);
  if (r.action !== 'accept') lines.push(`    action: ${r.action}`);
  if (r.user !== null) lines.push(`    user: ${q(r.user.name)}`);
  if (r.interface !== null) lines.push(`    interface: ${q(r.interface)}`);
  const peers = r.peers.length === 0 ? anyAddress(r.family) : r.peers;
  lines.push(`    ${r.direction === 'in' ? 'source' : 'destination'}: [${peers.map(q).join(', ')}]`);
  /* Palisade asks an accepting tcp/udp rule for its ports; every port is what the tool's rule meant. */
  const dport = r.dport ?? (r.action === 'accept' && (r.protocol === 'tcp' || r.protocol === 'udp') ? [{ from: 1, to: 65535 }] : null);
  if (dport !== null) lines.push(`    dport: ${portsYaml(dport)}`);
  if (r.sport !== null) lines.push(`    sport: ${portsYaml(r.sport)}`);
  if (r.icmpType !== null) lines.push(`    icmp_type: [${q(r.icmpType)}]`);
  if (r.limit !== null) lines.push(`    limit: { rate: ${q(`${r.limit.rate}/${r.limit.unit}`)}, burst: ${r.limit.burst}, per: ${r.limit.per} }`);
  return lines;
}

export interface WriteOptions {
  /** The host the policy is for: `on: name:HOST` on every rule. */
  host: string | null;
  /** Raw rules (by entry index) iptables-translate has no nft form for, with the reason: written commented out, for the iptables backend. */
  iptablesOnly?: ReadonlyMap<number, string>;
}

/** The policy text, and the rule names given to the entries (in entry order). */
export function writeImportedPolicy(imported: ImportedPolicy, options: WriteOptions): { text: string; names: string[] } {
  const on = options.host === null ? null : `name:${options.host}`;
  const taken = new Set<string>();
  const names = imported.entries.map((e) => nameOf(e, taken));
  const lost = imported.notes.filter((n) => !n.covered);
  const covered = imported.notes.filter((n) => n.covered);
  const raws = imported.entries.filter((e) => e.kind === 'raw');
  const head = [
    comment(`Imported by palisade import from ${imported.tool} (${imported.files.join(', ')}). Review before use; check it with palisade import --verify.`),
    '# Palisade adds its own base rules to every chain: loopback, established/related, IPv6 neighbour discovery and the failsafe (SSH in, DNS out).',
  ];
  if (raws.length > 0) head.push(`# Kept as raw iptables rules (${raws.length}): palisade's language has no field for them; the nft backend needs them translated.`, ...raws.map((r) => comment(`  ${r.place.file}:${r.place.line}: ${r.reason}`)));
  if (lost.length > 0) head.push(`# Not imported (${lost.length}):`, ...lost.map((n) => comment(`  ${n.place.file}:${n.place.line}: ${n.message}`)));
  if (covered.length > 0) head.push(`# Covered by palisade's base rules (${covered.length}):`, ...covered.map((n) => comment(`  ${n.place.file}:${n.place.line}: ${n.message}`)));
  const dropping = (end: 'accept' | 'drop' | 'reject'): boolean => end !== 'accept';
  const rejects = imported.input === 'reject' || imported.output === 'reject';
  const lines = [
    ...head,
    'settings:',
    `  input_drop: ${dropping(imported.input)}`,
    `  output_drop: ${dropping(imported.output)}`,
    `  default_action: ${rejects ? 'reject' : 'drop'}`,
  ];
  if (imported.input !== 'accept' && imported.output !== 'accept' && imported.input !== imported.output) {
    lines.push(comment(`  input ends in ${imported.input} and output in ${imported.output}: palisade has one default_action for both`));
  }
  const rules = imported.entries.flatMap((e, i) => (e.kind === 'rule' ? [{ e, name: names[i] as string }] : []));
  lines.push(rules.length === 0 ? 'rules: {}' : 'rules:');
  for (const { e, name } of rules) lines.push(`  ${comment(`${e.place.file}:${e.place.line}`)}`, ...ruleLines(e, name, on));
  const iptablesOnly = options.iptablesOnly ?? new Map<number, string>();
  const rawEntries = imported.entries.flatMap((e, i) => (e.kind === 'raw' ? [{ e, i, name: names[i] as string }] : []));
  const rawLines = (e: Extract<ImportedEntry, { kind: 'raw' }>, name: string): string[] => [`  ${q(name)}:`, ...(on === null ? [] : [`    on: ${q(on)}`]), `    iptables: { table: filter, rule: ${q(e.rule)} }`];
  const loadable = rawEntries.filter(({ i }) => !iptablesOnly.has(i));
  if (loadable.length > 0) {
    lines.push('raw:');
    for (const { e, name } of loadable) lines.push(`  ${comment(`${e.place.file}:${e.place.line}: ${e.reason}`)}`, ...rawLines(e, name));
  }
  const commented = rawEntries.filter(({ i }) => iptablesOnly.has(i));
  if (commented.length > 0) {
    lines.push('# For --backend iptables only: iptables-translate has no nft form for these; move them under raw: to use them there.');
    for (const { e, i, name } of commented) {
      lines.push(comment(`${e.place.file}:${e.place.line}: ${e.reason}; nft: ${iptablesOnly.get(i) ?? ''}`), ...rawLines(e, name).map((l) => `# ${l}`));
    }
  }
  return { text: `${lines.join('\n')}\n`, names };
}
