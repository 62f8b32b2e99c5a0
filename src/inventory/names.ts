/**
 * The one home of the names that an inventory and a policy share: hosts, environments, interfaces and local
 * users. Validators (inventory hosts, policy rules and settings) report `nameProblem` at the name's position;
 * renderers re-check with the same rules, so a name that reaches them unchecked is a bug (InternalError),
 * never a file `check` accepted and `compile` refuses. Each rule is also what the kernel and its tools take
 * as they are: a name that passes can be written into an nft script or an iptables-restore file unquoted.
 */
/** Four dotted numbers: what `explain` and rule sources read as an address, so never a host's name. */
const IPV4_SHAPE = /^[0-9]+(\.[0-9]+){3}$/;

export type NameKind = 'host' | 'environment' | 'interface' | 'user';

interface NameRule {
  pattern: RegExp;
  /** What a valid name is, for messages. */
  rule: string;
}

export const NAME_RULES: Readonly<Record<NameKind, NameRule>> = {
  host: {
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/,
    rule: "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 253 characters, not an IP address",
  },
  environment: { pattern: /^[A-Za-z0-9_.-]{1,255}$/, rule: "1 to 255 letters, digits, '_', '.' and '-'" },
  /**
   * Linux interface names (IFNAMSIZ - 1 = 15 characters) as nft and iptables take them: no '@' (ip link's
   * peer notation), no leading '-' (an option to iptables) or '.' (`.` and `..` are refused by Linux).
   */
  interface: {
    pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/,
    rule: "1 to 15 letters, digits, '_', '.' and '-', starting with a letter, digit or '_'",
  },
  /** POSIX-portable user names (useradd's default); `$` (Samba machine accounts) is refused: no rule can select one. */
  user: { pattern: /^[a-z_][a-z0-9_-]{0,31}$/i, rule: "a letter or '_', then up to 31 letters, digits, '_' or '-'" },
};

/**
 * Names of these kinds found valid, remembered (up to a bound): a fleet's hosts share their few environments,
 * interface and user names, each checked again for every host otherwise.
 */
const KNOWN_VALID: Readonly<Record<Exclude<NameKind, 'host'>, Set<string>>> = { environment: new Set(), interface: new Set(), user: new Set() };
const MAX_KNOWN_VALID = 4096;

/** Why `name` is not a valid name of its kind (a clause to follow "invalid X name ...: "), or null when it is. */
export function nameProblem(kind: NameKind, name: string): string | null {
  const known = kind === 'host' ? null : KNOWN_VALID[kind];
  if (known?.has(name)) return null;
  const { pattern, rule } = NAME_RULES[kind];
  if (kind === 'host' && IPV4_SHAPE.test(name)) {
    return 'it reads as an IPv4 address, and explain and rules take an address as the address: name the host and list the address under its interfaces';
  }
  if (pattern.test(name)) {
    if (known !== null && known.size < MAX_KNOWN_VALID) known.add(name);
    return null;
  }
  if (kind === 'interface' && name.includes('@') && name.indexOf('@') > 0) {
    return `'@' is how ip link shows a link's peer (eth0@if5): the interface's name is "${name.slice(0, name.indexOf('@'))}"`;
  }
  return `use ${rule}`;
}

export function isValidName(kind: NameKind, name: string): boolean {
  return nameProblem(kind, name) === null;
}

export const MAX_UID = 4294967294;

export function isUid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_UID;
}
