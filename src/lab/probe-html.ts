/**
 * `lab probe --format html`: the probe's report as one static page for a review or a CI artifact: the role map
 * (the same picture as `palisade graph`), a role × role summary of what passed, the host matrix with every cell
 * where the kernel and explain disagree marked, and the disagreements in full. No script; every name escaped.
 */
import type { RoleGraph } from '../graph/types.ts';
import { escapeXml, renderSvg } from '../graph/render.ts';
import { cell, type ProbeSummary } from './matrix.ts';
import type { ProbeResult } from './probe-run.ts';

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b2733}
table{border-collapse:collapse;font-size:12px;margin:8px 0 24px}th,td{border:1px solid #d5dde6;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f5f7fa}td.self{background:#eee}td.mismatch{background:#fadbd8;font-weight:600}td.unverified{background:#fdebd0}
td.none{color:#99a}.map{overflow:auto;border:1px solid #d5dde6;border-radius:6px;margin-bottom:24px}.summary{font-weight:600}`;

const td = (text: string, className?: string): string => `<td${className === undefined ? '' : ` class="${className}"`}>${escapeXml(text)}</td>`;
const th = (text: string): string => `<th>${escapeXml(text)}</th>`;

function table(rows: readonly string[], columns: readonly string[], cellOf: (row: string, column: string) => { text: string; className?: string }): string {
  const head = `<tr>${th('src \\ dst')}${columns.map(th).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${th(r)}${columns.map((c) => {
    const { text, className } = cellOf(r, c);
    return td(text, className);
  }).join('')}</tr>`);
  return `<table>${head}${body.join('')}</table>`;
}

function pairs(results: readonly ProbeResult[], key: (r: ProbeResult) => string): Map<string, ProbeResult[]> {
  const byPair = new Map<string, ProbeResult[]>();
  for (const r of results) byPair.set(key(r), [...(byPair.get(key(r)) ?? []), r]);
  return byPair;
}

const classOf = (results: readonly ProbeResult[], text: string): string | undefined =>
  results.some((r) => r.mismatch) ? 'mismatch' : results.some((r) => r.unverified) ? 'unverified' : text === '-' ? 'none' : undefined;

export function formatProbeHtml(report: { lab: string; backend: string; hosts: string[]; results: ProbeResult[]; summary: ProbeSummary; notes: string[] }, graph: RoleGraph): string {
  const { hosts, results, summary } = report;
  const roleOfHost = new Map<string, string>();
  for (const node of graph.nodes) for (const host of node.hosts) roleOfHost.set(host, node.environment === null ? node.label : `${node.environment}/${node.label}`);
  const role = (host: string): string => roleOfHost.get(host) ?? host;
  const roles = [...new Set(hosts.map(role))].sort();
  const byRoles = pairs(results, (r) => `${role(r.source)}\u0000${role(r.destination)}`);
  const byHosts = pairs(results, (r) => `${r.source}\u0000${r.destination}`);
  const matrix = (byPair: Map<string, ProbeResult[]>, self: boolean) => (row: string, column: string) => {
    if (self && row === column) return { text: '\\', className: 'self' };
    const found = byPair.get(`${row}\u0000${column}`) ?? [];
    const text = cell(found);
    const className = classOf(found, text);
    return className === undefined ? { text } : { text, className };
  };
  const problems = results.filter((r) => r.mismatch || r.unverified);
  const summaryText = `${summary.probes} probes, ${summary.passed} passed, in ${summary.seconds.toFixed(1)} s: ${summary.mismatches} mismatch(es) with explain${summary.unverified > 0 ? `, ${summary.unverified} unverified (raw rules)` : ''}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeXml(`palisade lab probe: ${report.lab}`)}</title><style>${STYLE}</style></head><body>
<h1>${escapeXml(`Lab ${report.lab} (${report.backend})`)}</h1>
<p class="summary">${escapeXml(summaryText)}</p>
<h2>What the policy allows (role map)</h2>
<div class="map">${renderSvg(graph)}</div>
<h2>What passed, role by role</h2>
<p>A cell lists what passed from any host of the row's role to any host of the column's (22 = tcp/22, u514 = udp/514, ping, ping6; @user: as that user; /4, /6: that family only); ! = the kernel differs from explain.</p>
${table(roles, roles, matrix(byRoles, false))}
<h2>Host by host</h2>
${table(hosts, hosts, matrix(byHosts, true))}
<h2>Disagreements with explain (${problems.length})</h2>
<ul>${problems.map((r) => `<li>${escapeXml(`${r.mismatch ? 'MISMATCH' : 'UNVERIFIED'} ${r.source} -> ${r.destination} ${r.protocol}${r.port === null ? '' : `/${r.port}`}${r.user === null ? '' : ` as ${r.user}`}: explain says ${r.predicted ? 'allowed' : 'denied'}, the kernel: ${r.outcome} (${r.detail})`)}</li>`).join('')}</ul>
${report.notes.map((n) => `<p>${escapeXml(`note: ${n}`)}</p>`).join('\n')}
</body></html>
`;
}
