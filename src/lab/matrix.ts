/**
 * The probe report, pure: a connectivity matrix (rows: source hosts, columns: destination hosts, cells: what
 * passed) cut into column pages that fit the width, every cell where the kernel disagrees with explain
 * marked, then those disagreements in full, and the drop counters.
 */
import type { ProbeResult } from './probe-run.ts';
import type { HostCounters } from './counters.ts';

export const PAGE_WIDTH = 160;
const CORNER = 'src\\dst';

export interface ProbeSummary {
  probes: number;
  passed: number;
  mismatches: number;
  unverified: number;
  seconds: number;
}

export function summarise(results: readonly ProbeResult[], seconds: number): ProbeSummary {
  return {
    probes: results.length,
    passed: results.filter((r) => r.passed).length,
    mismatches: results.filter((r) => r.mismatch).length,
    unverified: results.filter((r) => r.unverified).length,
    seconds,
  };
}

const PROTOCOL_ORDER = { tcp: 0, udp: 1, icmp: 2, icmpv6: 3 } as const;

/** `22`, `u514`, `ping`, `ping6`, then `@user` for a per-user flow and `/4` or `/6` when only that family passed. */
function token(r: Pick<ProbeResult, 'protocol' | 'port' | 'user'>): string {
  const what = r.protocol === 'tcp' ? `${r.port}` : r.protocol === 'udp' ? `u${r.port}` : r.protocol === 'icmp' ? 'ping' : 'ping6';
  return r.user === null ? what : `${what}@${r.user}`;
}

/** Pure: the text of one cell from the results of one (source, destination) pair. */
export function cell(results: readonly ProbeResult[]): string {
  const groups = new Map<string, { sample: ProbeResult; probed: Set<number>; passed: Set<number> }>();
  for (const r of results) {
    const key = `${r.protocol}/${r.port}/${r.user}`;
    const group = groups.get(key) ?? { sample: r, probed: new Set<number>(), passed: new Set<number>() };
    group.probed.add(r.family);
    if (r.passed) group.passed.add(r.family);
    groups.set(key, group);
  }
  const passed = [...groups.values()]
    .filter((g) => g.passed.size > 0)
    .sort((a, b) => PROTOCOL_ORDER[a.sample.protocol] - PROTOCOL_ORDER[b.sample.protocol] || (a.sample.port ?? 0) - (b.sample.port ?? 0) || (a.sample.user ?? '').localeCompare(b.sample.user ?? ''))
    .map((g) => `${token(g.sample)}${g.passed.size < g.probed.size ? `/${[...g.passed][0]}` : ''}`);
  const mark = results.some((r) => r.mismatch) ? '!' : results.some((r) => r.unverified) ? '?' : '';
  return `${mark}${passed.length === 0 ? '-' : passed.join(',')}`;
}

/** Pure: the matrix over `hosts` (in that order), in pages no wider than `width`. */
export function formatMatrix(hosts: readonly string[], results: readonly ProbeResult[], width = PAGE_WIDTH): string {
  const byPair = new Map<string, ProbeResult[]>();
  for (const r of results) {
    const key = `${r.source}\u0000${r.destination}`;
    byPair.set(key, [...(byPair.get(key) ?? []), r]);
  }
  const cells = hosts.map((s) => hosts.map((d) => (s === d ? '\\' : cell(byPair.get(`${s}\u0000${d}`) ?? []))));
  const labelWidth = Math.max(CORNER.length, ...hosts.map((h) => h.length));
  const columnWidth = hosts.map((h, j) => Math.max(h.length, ...cells.map((row) => (row[j] as string).length)));
  const pages: number[][] = [];
  let page: number[] = [];
  let used = labelWidth;
  for (const [j, w] of columnWidth.entries()) {
    if (page.length > 0 && used + 2 + w > width) {
      pages.push(page);
      page = [];
      used = labelWidth;
    }
    page.push(j);
    used += 2 + w;
  }
  if (page.length > 0) pages.push(page);
  const lines: string[] = [];
  for (const columns of pages) {
    if (lines.length > 0) lines.push('');
    const row = (label: string, texts: string[]): string => [label.padEnd(labelWidth), ...texts.map((t, k) => t.padEnd(columnWidth[columns[k] as number] as number))].join('  ').trimEnd();
    lines.push(row(CORNER, columns.map((j) => hosts[j] as string)));
    hosts.forEach((h, i) => lines.push(row(h, columns.map((j) => cells[i]?.[j] as string))));
  }
  return lines.join('\n');
}

function describe(r: ProbeResult): string {
  const what = r.protocol === 'tcp' || r.protocol === 'udp' ? `${r.protocol}/${r.port}` : r.protocol;
  const who = r.user === null ? `uid ${r.uid}` : `user ${r.user} (uid ${r.uid})`;
  return `${r.source} (${r.sourceAddress}) -> ${r.destination} (${r.destinationAddress}) ${what} as ${who}`;
}

const SAYS = { accept: 'allowed', drop: 'dropped (a timeout)', reject: 'rejected (refused at once)' } as const;

/** Pure: the whole text report. */
export function formatReport(hosts: readonly string[], results: readonly ProbeResult[], summary: ProbeSummary, notes: readonly string[], counters: readonly HostCounters[] | null): string {
  const lines = [
    'Connectivity: rows are sources, columns destinations; a cell lists what passed (22 = tcp/22, u514 = udp/514, ping, ping6;',
    '@user: as that user; /4, /6: that family only). ! = the kernel differs from explain; ? = differs where explain skipped raw rules.',
    '',
    formatMatrix(hosts, results),
    '',
  ];
  for (const r of results.filter((x) => x.mismatch || x.unverified)) {
    lines.push(`${r.mismatch ? 'MISMATCH' : 'UNVERIFIED'} ${describe(r)}: explain says ${SAYS[r.decision]}, the kernel: ${r.outcome} (${r.detail})`);
    for (const reason of r.reasons) lines.push(`    ${reason}`);
    if (r.unverified) lines.push(`    raw rules explain does not evaluate: ${r.unevaluated.join(', ')}`);
  }
  for (const note of notes) lines.push(`note: ${note}`);
  if (counters !== null) lines.push('', formatCounters(counters));
  lines.push(
    '',
    `${summary.probes} probes, ${summary.passed} passed, in ${summary.seconds.toFixed(1)} s: ${summary.mismatches} mismatch(es) with explain${summary.unverified > 0 ? `, ${summary.unverified} unverified (raw rules)` : ''}`,
  );
  return lines.join('\n');
}

/** Pure: drop, reject and log counters, one line per chain that has such a rule. */
export function formatCounters(counters: readonly HostCounters[]): string {
  const rows = counters.flatMap((h) => h.chains.map((c) => [h.host, c.chain, String(c.packets), String(c.rejected), String(c.logged), c.prefix ?? '-']));
  const header = ['HOST', 'CHAIN', 'DROPPED', 'REJECTED', 'LOGGED', 'LOG PREFIX'];
  const widths = header.map((title, k) => Math.max(title.length, ...rows.map((r) => (r[k] as string).length)));
  const line = (cells: string[]): string => cells.map((c, k) => (k >= 2 && k <= 4 ? c.padStart(widths[k] as number) : c.padEnd(widths[k] as number))).join('  ').trimEnd();
  return ['Drop and reject counters (packets since the ruleset was loaded):', line(header), ...rows.map(line)].join('\n');
}
