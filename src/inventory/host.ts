/** Validates one raw host entry (from YAML, JSON or a mapped Chef node) into a Host, collecting every error. */
import ipaddr from 'ipaddr.js';
import { error, warning, type Diagnostic, type SourcePos } from '../diagnostics.ts';
import { parseHostAddress } from './address.ts';
import type { Locator, Path } from './locate.ts';
import { MAX_UID, NAME_RULES, isUid, nameProblem, type NameKind } from './names.ts';
import { didYouMean } from '../suggest.ts';
import type { AttributeValue, Host } from './types.ts';

export const HOST_FIELDS = ['name', 'environment', 'roles', 'tags', 'interfaces', 'lan', 'users', 'attributes'] as const;

export interface CheckedHost {
  /** null when the entry had errors. */
  host: Host | null;
  /** The name, when the entry has a string one (even an invalid one), for messages. */
  name: string | undefined;
  diagnostics: Diagnostic[];
  /** Findings that do not make the host invalid. */
  warnings: Diagnostic[];
  /** Where each canonical address was written. */
  addressOrigins: Map<string, SourcePos>;
}

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field-by-field checks of one host; `report` records an error at a path. */
class HostChecker {
  readonly diagnostics: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];
  readonly addressOrigins = new Map<string, SourcePos>();

  constructor(
    private readonly raw: Fields,
    private readonly locate: Locator,
    readonly name: string | undefined,
  ) {}

  report(message: string, path: Path, onKey = false): void {
    const where = onKey ? this.locate.key(path) : this.locate.at(path);
    this.diagnostics.push(error(message, { ...where, ...(this.name === undefined ? {} : { host: this.name }) }));
  }

  unknownFields(): void {
    for (const field of Object.keys(this.raw)) {
      if (!(HOST_FIELDS as readonly string[]).includes(field)) {
        this.report(`unknown host field "${field}"${didYouMean(field, HOST_FIELDS)}`, [field], true);
      }
    }
  }

  checkName(): string {
    const value = this.raw['name'];
    if (value === undefined || value === null) this.report(`missing name: every host needs one (${NAME_RULES.host.rule})`, []);
    else if (typeof value !== 'string') this.report(`name must be a string, not ${JSON.stringify(value)}`, ['name']);
    else this.checkNameOf('host', value, ['name']);
    return typeof value === 'string' ? value : '';
  }

  /** Reports `name` unless it is a valid name of its kind; `onKey`: the name is a mapping's key. */
  private checkNameOf(kind: NameKind, name: string, path: Path, onKey = false): boolean {
    const problem = nameProblem(kind, name);
    if (problem !== null) this.report(`invalid ${kind} name "${name}": ${problem}`, path, onKey);
    return problem === null;
  }

  checkEnvironment(): string {
    const value = this.raw['environment'];
    if (value === undefined || value === null) return '_default';
    if (typeof value !== 'string') {
      this.report(`environment must be a string, not ${JSON.stringify(value)}`, ['environment']);
      return '';
    }
    this.checkNameOf('environment', value, ['environment']);
    return value;
  }

  /** A list of non-empty strings; a single string is a one-item list. Duplicates are dropped. */
  checkWords(field: 'roles' | 'tags'): string[] {
    const value = this.raw[field];
    if (value === undefined || value === null) return [];
    const items = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(items)) {
      this.report(`${field} must be a list of names, not ${JSON.stringify(value)}`, [field]);
      return [];
    }
    const words: string[] = [];
    items.forEach((item: unknown, i) => {
      if (typeof item !== 'string' || item.trim() === '') {
        this.report(`${field} must be non-empty strings, not ${JSON.stringify(item)}`, typeof value === 'string' ? [field] : [field, i]);
      } else if (!words.includes(item)) {
        words.push(item);
      }
    });
    return words;
  }

  checkInterfaces(): Record<string, string[]> {
    const value = this.raw['interfaces'];
    const interfaces: Record<string, string[]> = {};
    if (value === undefined || value === null) return interfaces;
    if (!isRecord(value)) {
      this.report('interfaces must be a mapping of interface name to addresses, e.g. { eth0: [10.0.0.1] }', ['interfaces']);
      return interfaces;
    }
    for (const [ifname, list] of Object.entries(value)) {
      this.checkNameOf('interface', ifname, ['interfaces', ifname], true);
      interfaces[ifname] = this.checkAddresses(list, ['interfaces', ifname]);
    }
    return interfaces;
  }

  private checkAddresses(value: unknown, path: Path): string[] {
    if (value === undefined || value === null) return [];
    const single = !Array.isArray(value);
    const items: unknown[] = Array.isArray(value) ? value : [value];
    const addresses: string[] = [];
    items.forEach((item, i) => {
      const where = single ? path : [...path, i];
      const parsed = parseHostAddress(item);
      if (!parsed.ok) {
        this.report(parsed.message, where);
      } else if (!addresses.includes(parsed.text)) {
        addresses.push(parsed.text);
        if (!this.addressOrigins.has(parsed.text)) this.addressOrigins.set(parsed.text, this.locate.at(where));
      }
    });
    return addresses;
  }

  checkLan(interfaces: Record<string, string[]>): string | undefined {
    const value = this.raw['lan'];
    if (value === undefined || value === null) return undefined;
    const known = Object.keys(interfaces);
    if (typeof value !== 'string' || !known.includes(value)) {
      const hint = typeof value === 'string' ? didYouMean(value, known) : '';
      const have = known.length === 0 ? 'the host has no interfaces' : `the host's interfaces are ${known.join(', ')}`;
      this.report(`lan ${JSON.stringify(value)} is not one of the host's interfaces${hint}: ${have}`, ['lan']);
      return undefined;
    }
    return value;
  }

  checkUsers(): Record<string, number> {
    const value = this.raw['users'];
    const users: Record<string, number> = {};
    if (value === undefined || value === null) return users;
    if (!isRecord(value)) {
      this.report('users must be a mapping of user name to uid, e.g. { www-data: 33 }', ['users']);
      return users;
    }
    for (const [user, uid] of Object.entries(value)) {
      this.checkNameOf('user', user, ['users', user], true);
      if (!isUid(uid)) this.report(`uid of "${user}" must be an integer from 0 to ${MAX_UID}, not ${JSON.stringify(uid)}`, ['users', user]);
      else users[user] = uid;
    }
    this.sharedUids(users);
    return users;
  }

  /** Users sharing a uid are one user to the kernel: the socket's owner is only a uid. */
  private sharedUids(users: Record<string, number>): void {
    const byUid = new Map<number, string>();
    for (const [user, uid] of Object.entries(users)) {
      const first = byUid.get(uid);
      if (first === undefined) {
        byUid.set(uid, user);
        continue;
      }
      const where = { ...this.locate.key(['users', user]), ...(this.name === undefined ? {} : { host: this.name }) };
      this.warnings.push(
        warning(`users ${first} and ${user} share uid ${uid}: the kernel sees only the uid, so the firewall cannot tell them apart and rules of ${user} may never be reached`, where),
      );
    }
  }

  checkAttributes(): Record<string, AttributeValue> {
    const value = this.raw['attributes'];
    if (value === undefined || value === null) return {};
    if (!isRecord(value)) {
      this.report('attributes must be a mapping, e.g. { rack: r12 }', ['attributes']);
      return {};
    }
    return value as Record<string, AttributeValue>;
  }
}

function sortedUnique(list: Iterable<string>, compare?: (a: string, b: string) => number): string[] {
  return [...new Set(list)].sort(compare);
}

/** The addresses a query selecting the host yields: the lan interface's, or every interface's. */
export function deriveAddresses(interfaces: Record<string, string[]>, lan: string | undefined): Host['addresses'] {
  const all = lan === undefined ? Object.values(interfaces).flat() : (interfaces[lan] ?? []);
  return {
    v4: sortedUnique(all.filter((a) => !a.includes(':')), compareAddresses),
    v6: sortedUnique(all.filter((a) => a.includes(':')), compareAddresses),
  };
}

/** Numeric order of two addresses of one family. */
function compareAddresses(a: string, b: string): number {
  const x = ipaddr.parse(a).toByteArray();
  const y = ipaddr.parse(b).toByteArray();
  const i = x.findIndex((byte, k) => byte !== y[k]);
  return i === -1 ? 0 : (x[i] ?? 0) - (y[i] ?? 0);
}

/** Checks one host entry found at `locate`'s root. */
export function checkHost(raw: unknown, locate: Locator, origin: SourcePos): CheckedHost {
  if (!isRecord(raw)) {
    const diagnostic = error(`a host must be a mapping (name, interfaces, ...), not ${JSON.stringify(raw)}`, origin);
    return { host: null, name: undefined, diagnostics: [diagnostic], warnings: [], addressOrigins: new Map() };
  }
  const name = typeof raw['name'] === 'string' ? raw['name'] : undefined;
  const checker = new HostChecker(raw, locate, name);
  checker.unknownFields();
  const interfaces = checker.checkInterfaces();
  const lan = checker.checkLan(interfaces);
  const host: Host = {
    name: checker.checkName(),
    environment: checker.checkEnvironment(),
    roles: checker.checkWords('roles'),
    tags: checker.checkWords('tags'),
    interfaces,
    ...(lan === undefined ? {} : { lan }),
    users: checker.checkUsers(),
    attributes: checker.checkAttributes(),
    addresses: deriveAddresses(interfaces, lan),
    origin,
  };
  const ok = checker.diagnostics.length === 0;
  return { host: ok ? host : null, name, diagnostics: checker.diagnostics, warnings: checker.warnings, addressOrigins: checker.addressOrigins };
}
