/**
 * Findings that need both the policy and the inventory: what `palisade check` adds to parsing. Per-rule facts come
 * from the query index (what a query selects, which hosts carry a rule), and the compiler's warnings from
 * FleetCompiler.warningsOf, so that no host is compiled: check stays fast at 100,000 hosts.
 */
import { warning, type Diagnostic } from '../diagnostics.ts';
import { queryFields, usesSametag } from '../query/format.ts';
import type { QueryNode } from '../query/ast.ts';
import type { FleetCompiler } from './compile.ts';
import type { Policy } from '../policy/types.ts';
import type { Inventory } from '../inventory/types.ts';
import { untranslatableError, type RawTranslations } from './raw.ts';

export function lintPolicy(policy: Policy, inventory: Inventory, compiler: FleetCompiler): Diagnostic[] {
  const findings: Diagnostic[] = [];
  const carriedAnywhere = (rule: { on: Policy['rules'][number]['on']; env?: string | null }): boolean => inventory.hosts.some((host, i) => compiler.carries(rule, host, i));
  for (const rule of [...policy.rules, ...policy.raw]) {
    const where = { file: rule.origin.file, line: rule.origin.line, col: rule.origin.col, rule: rule.name };
    if ('peers' in rule && !rule.options.disableSyntaxCheck) {
      const queries = [...(rule.on === null ? [] : [rule.on]), ...rule.peers.flatMap((p) => (p.kind === 'query' ? [p.query] : []))];
      const unknown = [...new Set(queries.flatMap(queryFields))].filter((f) => !compiler.index.knownField(f));
      for (const field of unknown) findings.push(warning(`query field "${field}" is neither a built-in field nor an attribute of any host: it matches nothing`, where));
    }
    if (rule.on !== null && !carriedAnywhere(rule)) findings.push(warning(`on: "${rule.onText}" selects no host: the rule is installed nowhere`, where));
    if ('peers' in rule) {
      const field = rule.direction === 'in' ? 'source' : 'destination';
      for (const peer of rule.peers) {
        if (peer.kind === 'query' && !selectsAnyHost(peer.query, rule, inventory, compiler)) {
          findings.push(warning(`${field} "${peer.text}" matches no host of the inventory: it adds no address to the rule`, where));
        }
      }
    }
  }
  /* What compiling would warn about, with the hosts it would warn on, in inventory order. */
  const skipped = new Map<string, string[]>();
  inventory.hosts.forEach((host, i) => {
    for (const w of compiler.warningsOf(host, i)) {
      const hosts = skipped.get(w);
      if (hosts === undefined) skipped.set(w, [host.name]);
      else hosts.push(host.name);
    }
  });
  for (const [message, hosts] of skipped) {
    const shown = hosts.slice(0, 5).join(', ') + (hosts.length > 5 ? `, and ${hosts.length - 5} more` : '');
    findings.push(warning(`${message} (on ${shown})`));
  }
  return findings;
}

/**
 * Whether a source/destination query selects some host, in any environment (a typo like `roles:webservers`
 * selects none); a SAMETAG query is asked from each host carrying the rule, until one finds a peer.
 */
function selectsAnyHost(query: QueryNode, rule: Policy['rules'][number], inventory: Inventory, compiler: FleetCompiler): boolean {
  if (!usesSametag(query)) return compiler.index.select(query, { environment: null, self: null }).length > 0;
  return inventory.hosts.some((host, i) => compiler.carries(rule, host, i) && compiler.index.select(query, { environment: null, self: host }).length > 0);
}

/** For the nft backend: every raw rule some host carries that has no nft form and no translation, as an error naming it. */
export function untranslatableRules(policy: Policy, inventory: Inventory, compiler: FleetCompiler, translations: RawTranslations): Diagnostic[] {
  return policy.raw.flatMap((rule) => {
    const translation = translations.get(rule.name);
    if (rule.nft !== null || translation === undefined || !('error' in translation)) return [];
    return inventory.hosts.some((host, i) => compiler.carries(rule, host, i)) ? [untranslatableError(rule, translation.error)] : [];
  });
}
