/**
 * What container settings mean, apart from how a policy writes them (src/policy/containers.ts parses
 * `settings.containers` and `from:`): the defaults, and which interfaces a bridge pattern names. The compiler
 * and explain use these without loading the policy parser.
 */
import type { ContainerSettings } from './types.ts';
import { nameProblem } from '../inventory/names.ts';

export const CONTAINER_MODES = ['enforce', 'off'] as const;
/**
 * Docker's default bridge and user-defined networks (`br-<id>`), CNI bridges (flannel, the bridge plugin:
 * `cni0`, kubenet's `cbr0`), Podman's. Calico and Cilium route pods without a bridge and manage forwarding
 * themselves (see docs/containers.md).
 */
export const DEFAULT_BRIDGES = ['docker0', 'br-*', 'cni*', 'cbr0', 'podman*'];

export function defaultContainerSettings(): ContainerSettings {
  return { mode: 'enforce', egressDrop: false, egressDropLog: true, bridges: [...DEFAULT_BRIDGES], between: 'open' };
}

/** Why `text` is not an interface name or a prefix pattern (`br-*`), or null. */
export function interfacePatternProblem(text: string): string | null {
  if (!text.endsWith('*')) return nameProblem('interface', text);
  const prefix = text.slice(0, -1);
  if (prefix === '') return '"*" alone is every interface: name the container bridges (docker0, "br-*")';
  if (prefix.length > 14) return 'the part before "*" has at most 14 characters';
  const problem = nameProblem('interface', prefix);
  return problem === null ? null : `the part before "*": ${problem}`;
}

/** Whether an interface name matches a bridge name or `prefix*` pattern. */
export function interfaceMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}
