/** Validates one raw host entry (from YAML, JSON or a mapped Chef node) into a Host, collecting every error. */
import ipaddr from 'ipaddr.js';
import { error, warning, type Diagnostic, type SourcePos } from '../diagnostics.ts';
import { parseHostAddress } from './address.ts';
import { shown } from './shown.ts';
import type { Locator, Path } from './locate.ts';
import { MAX_UID, NAME_RULES, isUid, nameProblem, type NameKind } from './names.ts';
import { didYouMean } from '../suggest.ts';
import type { AttributeValue, Host } from './types.ts';

export const HOST_FIELDS = ['name', 'environment', 'roles', 'tags', 'interfaces', 'lan', 'users', 'attributes'] as const;

const KNOWN_FIELDS: ReadonlySet<string> = new Set(HOST_FIELDS);

export interface CheckedHost {
  /** null when the entry had errors. */
  host: Host | null;
  /** The name, when the entry has a string one (even an invalid one), for messages. */
  name: string | undefined;
  diagnostics: Diagnostic[];
  /** Findings that do not make the host invalid. */
  warnings: Diagnostic[];
}

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether list[0, end) holds `item`. Lists are short (a host's roles, one interface's addresses), but every
 * input may be huge: `set`, made for a list longer than 16 items, is searched instead (and records `item`).
 */
function holds(list: readonly unknown[], item: unknown, end: number, set: Set<unknown> | null): boolean {
  if (set === null) {
    for (let i = 0; i < end; i++) if (list[i] === item) return true;
    return false;
  }
  const held = set.has(item);
  set.add(item);
  return held;
}

const searchSet = (size: number): Set<unknown> | null => (size > 16 ? new Set() : null);

/**
 * Field-by-field checks of one host; `report` records an error at a path. Valid lists and mappings of the
 * entry are kept as they are (the entry is the checker's own, fresh from the parser): at 100,000 hosts, copies
 * cost more than the checks.
 */
class HostChecker implements CheckedHost {
  host: Host | null = null;
  readonly diagnostics: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];

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
      if (!KNOWN_FIELDS.has(field)) {
        this.report(`unknown host field ${shown(field)}${didYouMean(field, HOST_FIELDS)}`, [field], true);
      }
    }
  }

  checkName(): string {
    const value = this.raw['name'];
    if (value === undefined || value === null) this.report(`missing name: every host needs one (${NAME_RULES.host.rule})`, []);
    else if (typeof value !== 'string') this.report(`name must be a string, not ${shown(value)}`, ['name']);
    else this.checkNameOf('host', value, ['name']);
    return typeof value === 'string' ? value : '';
  }

  /** Reports `name` unless it is a valid name of its kind; `onKey`: the name is a mapping's key. */
  private checkNameOf(kind: NameKind, name: string, path: Path, onKey = false): boolean {
    const problem = nameProblem(kind, name);
    if (problem !== null) this.report(`invalid ${kind} name ${shown(name)}: ${problem}`, path, onKey);
    return problem === null;
  }

  checkEnvironment(): string {
    const value = this.raw['environment'];
    if (value === undefined || value === null) return '_default';
    if (typeof value !== 'string') {
      this.report(`environment must be a string, not ${shown(value)}`, ['environment']);
      return '';
    }
    this.checkNameOf('environment', value, ['environment']);
    return value;
  }

  /** A list of non-empty strings; a single string is a one-item list. Duplicates are dropped. */
  checkWords(field: 'roles' | 'tags'): string[] {
    const value = this.raw[field];
    if (value === undefined || value === null) return [];
    if (typeof value === 'string') {
      if (value.trim() !== '') return [value];
      this.report(`${field} must be non-empty strings, not ${shown(value)}`, [field]);
      return [];
    }
    if (!Array.isArray(value)) {
      this.report(`${field} must be a list of names, not ${shown(value)}`, [field]);
      return [];
    }
    const items: readonly unknown[] = value;
    const seen = searchSet(items.length);
    let words: string[] | null = null;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const bad = typeof item !== 'string' || item.trim() === '';
      if (bad) this.report(`${field} must be non-empty strings, not ${shown(item)}`, [field, i]);
      const keep = !bad && !holds(items, item, i, seen);
      if (!keep && words === null) words = items.slice(0, i) as string[];
      else if (keep && words !== null) words.push(item as string);
    }
    return words ?? (items as string[]);
  }

  checkInterfaces(): Record<string, string[]> {
    const value = this.raw['interfaces'];
    const interfaces: Record<string, string[]> = {};
    if (value === undefined || value === null) return interfaces;
    if (!isRecord(value)) {
      this.report('interfaces must be a mapping of interface name to addresses, e.g. { eth0: [10.0.0.1] }', ['interfaces']);
      return interfaces;
    }
    for (const ifname of Object.keys(value)) {
      this.checkNameOf('interface', ifname, ['interfaces', ifname], true);
      interfaces[ifname] = this.checkAddresses(value[ifname], ifname);
    }
    return interfaces;
  }

  private checkAddresses(value: unknown, ifname: string): string[] {
    if (value === undefined || value === null) return [];
    const single = !Array.isArray(value);
    const items: readonly unknown[] = Array.isArray(value) ? value : [value];
    const addresses: string[] = [];
    const seen = searchSet(items.length);
    for (let i = 0; i < items.length; i++) {
      const parsed = parseHostAddress(items[i]);
      if (!parsed.ok) this.report(parsed.message, single ? ['interfaces', ifname] : ['interfaces', ifname, i]);
      else if (!holds(addresses, parsed.text, addresses.length, seen)) addresses.push(parsed.text);
    }
    return exactly(addresses);
  }

  checkLan(interfaces: Record<string, string[]>): string | undefined {
    const value = this.raw['lan'];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || !Object.hasOwn(interfaces, value)) {
      const known = Object.keys(interfaces);
      const hint = typeof value === 'string' ? didYouMean(value, known) : '';
      const have = known.length === 0 ? 'the host has no interfaces' : `the host's interfaces are ${known.join(', ')}`;
      this.report(`lan ${shown(value)} is not one of the host's interfaces${hint}: ${have}`, ['lan']);
      return undefined;
    }
    return value;
  }

  checkUsers(): Record<string, number> {
    const value = this.raw['users'];
    if (value === undefined || value === null) return {};
    if (!isRecord(value)) {
      this.report('users must be a mapping of user name to uid, e.g. { www-data: 33 }', ['users']);
      return {};
    }
    /* A user named __proto__ would be the prototype of a copy, not a user: the copy (made only then) drops it, as it always did. */
    let valid = !Object.hasOwn(value, '__proto__');
    const names = Object.keys(value);
    for (const user of names) {
      const uid = value[user];
      const named = this.checkNameOf('user', user, ['users', user], true);
      if (!isUid(uid)) {
        this.report(`uid of ${shown(user)} must be an integer from 0 to ${MAX_UID}, not ${shown(uid)}`, ['users', user]);
        valid = false;
      } else if (!named) {
        valid = false;
      }
    }
    if (valid) {
      this.sharedUids(value as Record<string, number>, names);
      return value as Record<string, number>;
    }
    const users: Record<string, number> = {};
    for (const user of names) if (isUid(value[user])) users[user] = value[user];
    this.sharedUids(users, Object.keys(users));
    return users;
  }

  /** Users sharing a uid are one user to the kernel: the socket's owner is only a uid. */
  private sharedUids(users: Record<string, number>, names: readonly string[]): void {
    const byUid = names.length > 16 ? new Map<number, string>() : null;
    for (let i = 0; i < names.length; i++) {
      const user = names[i] as string;
      const uid = users[user] as number;
      let first: string | undefined;
      if (byUid !== null) first = byUid.get(uid);
      else for (let k = 0; k < i && first === undefined; k++) if (users[names[k] as string] === uid) first = names[k];
      if (first === undefined) {
        byUid?.set(uid, user);
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
    const tooDeep = deeperThan(value, MAX_ATTRIBUTE_DEPTH, []);
    if (tooDeep !== null) this.report(`attributes may be nested ${MAX_ATTRIBUTE_DEPTH} levels deep at most (queries, revisions and the fleet walk them)`, ['attributes', ...tooDeep]);
    return value as Record<string, AttributeValue>;
  }
}

/** How deep attributes may nest: far beyond any inventory's, and safe for everything that walks them. */
const MAX_ATTRIBUTE_DEPTH = 64;

/** The path to a value nested more than `levels` below `value`; null when there is none. */
function deeperThan(value: unknown, levels: number, path: Array<string | number>): Array<string | number> | null {
  if (typeof value !== 'object' || value === null) return null;
  if (levels === 0) return path;
  const keys = Array.isArray(value) ? value.keys() : Object.keys(value);
  for (const key of keys) {
    path.push(key);
    const found = deeperThan((value as Record<string | number, unknown>)[key], levels - 1, path);
    if (found !== null) return found;
    path.pop();
  }
  return null;
}

/**
 * A list grown item by item, in an array of its own length: a host keeps its lists for as long as the
 * inventory lives, and one grown by push has room for 16 items (at 100,000 hosts, tens of MB).
 */
function exactly(list: string[]): string[] {
  return list.length === 0 ? [] : list.slice();
}

function sortedUnique(list: string[]): string[] {
  return list.length < 2 ? exactly(list) : [...new Set(list)].sort(compareAddresses);
}

/** The addresses a query selecting the host yields: the lan interface's, or every interface's. */
export function deriveAddresses(interfaces: Record<string, string[]>, lan: string | undefined): Host['addresses'] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const name of lan === undefined ? Object.keys(interfaces) : [lan]) {
    for (const address of interfaces[name] ?? []) (address.includes(':') ? v6 : v4).push(address);
  }
  return { v4: sortedUnique(v4), v6: sortedUnique(v6) };
}

/** Numeric order of two addresses of one family. */
function compareAddresses(a: string, b: string): number {
  const x = ipaddr.parse(a).toByteArray();
  const y = ipaddr.parse(b).toByteArray();
  const i = x.findIndex((byte, k) => byte !== y[k]);
  return i === -1 ? 0 : (x[i] ?? 0) - (y[i] ?? 0);
}

/**
 * Where a host entry wrote one of its canonical addresses first (what a warning about it points at): its
 * interfaces' items are read again, in order.
 */
export function addressOrigin(raw: unknown, locate: Locator, address: string): SourcePos | undefined {
  const interfaces = isRecord(raw) ? raw['interfaces'] : undefined;
  if (!isRecord(interfaces)) return undefined;
  for (const ifname of Object.keys(interfaces)) {
    const value = interfaces[ifname];
    if (value === undefined || value === null) continue;
    const items: readonly unknown[] = Array.isArray(value) ? value : [value];
    const i = items.findIndex((item) => {
      const parsed = parseHostAddress(item);
      return parsed.ok && parsed.text === address;
    });
    if (i !== -1) return locate.at(Array.isArray(value) ? ['interfaces', ifname, i] : ['interfaces', ifname]);
  }
  return undefined;
}

/** The facts of a host: all but where it was written. */
type HostFacts = Omit<Host, 'origin'>;

/**
 * A host whose position is found when first asked (`locate.at([])`): where each host of a JSON document
 * starts takes a scan of the whole text, which only a diagnostic needs. Its facts are its own properties, in
 * the order of a host's; `origin` is not one of them (nothing copies or serialises it).
 */
class LocatedHost implements Host {
  declare name: string;
  declare environment: string;
  declare roles: string[];
  declare tags: string[];
  declare interfaces: Record<string, string[]>;
  declare lan?: string;
  declare users: Record<string, number>;
  declare attributes: Record<string, AttributeValue>;
  declare addresses: Host['addresses'];
  readonly #locate: Locator;

  constructor(facts: HostFacts, locate: Locator) {
    this.name = facts.name;
    this.environment = facts.environment;
    this.roles = facts.roles;
    this.tags = facts.tags;
    this.interfaces = facts.interfaces;
    if (facts.lan !== undefined) this.lan = facts.lan;
    this.users = facts.users;
    this.attributes = facts.attributes;
    this.addresses = facts.addresses;
    this.#locate = locate;
  }

  get origin(): SourcePos {
    return this.#locate.at([]);
  }
}

/** Checks one host entry found at `locate`'s root; `origin` null: where it was written is found when asked. */
export function checkHost(raw: unknown, locate: Locator, origin: SourcePos | null): CheckedHost {
  if (!isRecord(raw)) {
    const diagnostic = error(`a host must be a mapping (name, interfaces, ...), not ${shown(raw)}`, origin ?? locate.at([]));
    return { host: null, name: undefined, diagnostics: [diagnostic], warnings: [] };
  }
  const name = typeof raw['name'] === 'string' ? raw['name'] : undefined;
  const checker = new HostChecker(raw, locate, name);
  checker.unknownFields();
  const interfaces = checker.checkInterfaces();
  const lan = checker.checkLan(interfaces);
  const hostName = checker.checkName();
  const environment = checker.checkEnvironment();
  const roles = checker.checkWords('roles');
  const tags = checker.checkWords('tags');
  const users = checker.checkUsers();
  const attributes = checker.checkAttributes();
  const addresses = deriveAddresses(interfaces, lan);
  if (checker.diagnostics.length > 0) return checker;
  const facts: HostFacts =
    lan === undefined
      ? { name: hostName, environment, roles, tags, interfaces, users, attributes, addresses }
      : { name: hostName, environment, roles, tags, interfaces, lan, users, attributes, addresses };
  checker.host = origin === null ? new LocatedHost(facts, locate) : { ...facts, origin };
  return checker;
}
