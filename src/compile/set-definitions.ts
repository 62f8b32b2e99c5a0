/**
 * Named sets are keyed by what they select (the rule's source/destination list, the environment scope and,
 * for SAMETAG, the compiled host's tags), never by their members: a VM joining or leaving changes a set's
 * elements but not its name, so the change can be applied as element updates instead of a reload.
 */
import { createHash } from 'node:crypto';
import { formatQuery, usesSametag } from '../query/format.ts';
import type { Endpoint } from '../policy/types.ts';
import type { Family } from './ir.ts';
import { setPrefix } from '../layout.ts';

export interface SetScope {
  /** null: every environment (`disable_env_limit`). */
  environment: string | null;
  /** Sorted tags of the compiled host when a query uses SAMETAG, else null. */
  sametag: string[] | null;
}

export function endpointKey(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case 'query':
      return `query ${formatQuery(endpoint.query)}`;
    case 'cidr':
      return `net ${endpoint.cidr}`;
    case 'hostname':
      return `name ${endpoint.name.toLowerCase()}`;
  }
}

export function endpointsUseSametag(endpoints: readonly Endpoint[]): boolean {
  return endpoints.some((e) => e.kind === 'query' && usesSametag(e.query));
}

/** Human-readable and hashed into the set's name. */
export function setDefinition(endpoints: readonly Endpoint[], scope: SetScope, family: Family): string {
  const entries = [...new Set(endpoints.map(endpointKey))].sort().join(', ');
  const env = scope.environment === null ? 'any environment' : `environment ${scope.environment}`;
  const tags = scope.sametag === null ? '' : ` | SAMETAG of (${scope.sametag.join(', ')})`;
  return `ipv${family} of ${entries} | ${env}${tags}`;
}

export function setName(definition: string, family: Family): string {
  return `${setPrefix(family)}${createHash('sha256').update(definition).digest('hex').slice(0, 12)}`;
}
