/**
 * `settings.mode` and `settings.audit`: which hosts run in audit mode (log and accept what would be dropped).
 *
 *     mode: audit                  # enforce (default) | audit: every host audits
 *     audit:                       # with mode enforce: only these hosts audit
 *       environments: [staging]
 *       hosts: roles:search        # a query over every environment (no SAMETAG)
 *       log_group: 7               # NFLOG group of the audit records (default 7)
 *
 * Audit is per host, not per rule: rules only accept, and what audit changes is the drop at a chain's end.
 */
import { isScalar } from 'yaml';
import type { AuditSettings } from './types.ts';
import { textEntries } from './endpoints.ts';
import { choiceField, stringField } from './fields.ts';
import { sametagColumn } from './query-text.ts';
import { QuerySyntaxError, type QueryNode } from '../query/ast.ts';
import { parseQuery } from '../query/parser.ts';
import { nameProblem } from '../inventory/names.ts';
import type { Entry, SourceFile } from './yaml-source.ts';

export const MODES = ['enforce', 'audit'] as const;
export const DEFAULT_AUDIT_LOG_GROUP = 7;
/** NFLOG groups are 16 bits. */
const LOG_GROUP_MAX = 65535;

function parseEnvironments(file: SourceFile, entry: Entry): string[] {
  const names: string[] = [];
  for (const { node, text } of textEntries(file, entry.keyNode, entry.value, 'audit.environments')) {
    const problem = nameProblem('environment', text);
    if (problem === null) names.push(text);
    else file.error(node, `"audit.environments": "${text}" is not an environment name: ${problem}`);
  }
  return names;
}

function parseHosts(file: SourceFile, entry: Entry): AuditSettings['hosts'] {
  const text = stringField(file, entry);
  if (text === null || entry.value === null) return null;
  let query: QueryNode;
  try {
    query = parseQuery(text);
  } catch (cause) {
    if (!(cause instanceof QuerySyntaxError)) throw cause;
    file.error(file.innerPos(entry.value, cause.col), `invalid query "${text}": ${cause.message}`);
    return null;
  }
  const col = sametagColumn(query);
  if (col === null) return { text, query };
  file.error(file.innerPos(entry.value, col), '"audit.hosts" cannot use SAMETAG: it has no compiled host to share tags with');
  return null;
}

function parseLogGroup(file: SourceFile, entry: Entry): number | null {
  const value = entry.value;
  if (isScalar(value) && typeof value.value === 'number' && Number.isInteger(value.value) && value.value >= 0 && value.value <= LOG_GROUP_MAX) return value.value;
  file.error(value ?? entry.keyNode, `"log_group" must be an NFLOG group number, 0 to ${LOG_GROUP_MAX}`);
  return null;
}

/** The audit settings of `mode:` and `audit:` (either may be absent); undefined when no host audits. */
export function parseAudit(file: SourceFile, mode: Entry | undefined, audit: Entry | undefined): AuditSettings | undefined {
  const chosen = mode === undefined ? 'enforce' : choiceField(file, mode, MODES);
  const result: AuditSettings = { all: chosen === 'audit', environments: [], hosts: null, logGroup: DEFAULT_AUDIT_LOG_GROUP };
  const entries = audit === undefined ? [] : (file.entries(audit.value ?? audit.keyNode, 'audit', { known: ['environments', 'hosts', 'log_group'], noun: 'key in audit' }) ?? []);
  for (const entry of entries) {
    if (entry.key === 'log_group') {
      result.logGroup = parseLogGroup(file, entry) ?? DEFAULT_AUDIT_LOG_GROUP;
      continue;
    }
    if (result.all) {
      file.error(entry.keyNode, `"audit.${entry.key}" selects hosts to audit under mode: enforce; mode: audit already audits every host`);
      continue;
    }
    if (entry.key === 'environments') result.environments = parseEnvironments(file, entry);
    else result.hosts = parseHosts(file, entry);
  }
  const selects = result.all || result.environments.length > 0 || result.hosts !== null;
  if (audit !== undefined && !selects && !entries.some((e) => e.key !== 'log_group')) {
    file.warning(audit.keyNode, '"audit" selects no host: give environments or hosts, or set mode: audit');
  }
  return selects ? result : undefined;
}
