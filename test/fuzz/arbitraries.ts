/**
 * fast-check arbitraries for the fuzz test: policy and inventory documents that are structurally plausible
 * (so that many of them pass `check` and reach the compiler, the renderer and `nft -c`), salted with hostile
 * values (names that are injections or escape sequences, unicode, huge and deeply nested values, queries
 * nested beyond any limit), and sometimes mangled as text after serialisation.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';

/** Values a name, a role, a user or an interface might take, most of them valid. */
const PLAIN_NAMES = ['web-1', 'web-2', 'db-1', 'lb-1', 'api', 'cache_1', 'mon.1', 'a', 'x1'];
const ROLES = ['web', 'db', 'lb', 'monitoring', 'api'];
const TAGS = ['shop', 'blog', 'eu', 'us'];
const ENVIRONMENTS = ['production', 'staging', 'dev'];
const INTERFACES = ['eth0', 'eth1', 'lo', 'wg0', 'br-lan', 'ens3.100'];
const USERS = ['root', 'www-data', 'app', 'postgres', 'svc_1'];

/** Names that are injections, escapes, unicode or out of every rule. */
const HOSTILE_STRINGS = [
  '',
  ' ',
  '-eth1',
  'eth0@if5',
  '.',
  '..',
  'a$b',
  '$(reboot)',
  '`id`',
  '; flush ruleset',
  '" ; flush ruleset ; "',
  '} table ip x { }',
  '{',
  '#comment',
  'a\nb',
  'tab\there',
  '\u0000',
  '\u001b[31mred\u001b[0m',
  '\u202eevil',
  'é',
  'ﬁ',
  '名前',
  '🔥',
  '\ud800',
  'x'.repeat(300),
  'eth0000000000000000',
  '*',
  '*:*',
  'NOT',
  'AND',
  '(',
  ')',
  '\\',
  '"',
  "'",
  '../../etc/passwd',
  '10.0.0.1',
  '::1',
  'palisade',
  'input',
  'PALISADE-INPUT',
  '0',
  '-1',
  '4294967296',
];

const hostile = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 8 }));

/** Addresses a host should not claim, or that are not addresses. */
const oddAddress = fc.oneof(
  fc.constantFrom('10.0.0.1/24', '0.0.0.0', '255.255.255.255', '127.0.0.1', '::', '::1', 'fe80::1', '64:ff9b::1.2.3.4', '::ffff:10.0.0.1', '1.2.3', '999.1.1.1', '2001:db8::/32', '10.0.0.01', '169.254.1.1', '224.0.0.1'),
  fc.tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `${a}.${b}.0.1`),
);

/** A value nested `depth` deep (lists in lists), as YAML and JSON both write it. */
const nested = (depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

const attributeValue = fc.oneof(
  { weight: 5, arbitrary: fc.oneof(fc.constantFrom('r1', 'r2', 'true'), fc.boolean(), fc.integer()) },
  { weight: 1, arbitrary: fc.constantFrom(5, 200, 1000).map(nested) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('rack', 'zone'), fc.constantFrom('a', 'b'), { maxKeys: 3 }) },
);

/** A host as the inventory format wants it (names unique across a document: the index is part of them). */
const host = (i: number): fc.Arbitrary<Record<string, unknown>> =>
  fc.record(
    {
      name: fc.constantFrom(...PLAIN_NAMES).map((n) => `${n}-${i}`),
      environment: fc.constantFrom(...ENVIRONMENTS),
      roles: fc.uniqueArray(fc.constantFrom(...ROLES), { maxLength: 3 }),
      tags: fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 }),
      interfaces: fc.constant({ eth0: [`10.${i >> 8}.${i & 255}.1`, `2001:db8::${(i + 1).toString(16)}`] }),
      lan: fc.constant('eth0'),
      users: fc.uniqueArray(fc.constantFrom(...USERS), { maxLength: 3 }).map((users) => Object.fromEntries(users.map((u, k) => [u, u === 'root' ? 0 : 4100 + k]))),
      attributes: fc.dictionary(fc.constantFrom('rack', 'zone', 'public'), attributeValue, { maxKeys: 3 }),
    },
    { requiredKeys: ['name', 'interfaces'] },
  );

/** A query as text: terms, operators and parentheses. */
const queryTerm = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('roles', 'tags', 'environment', 'name', 'role', 'tag', 'chef_environment', 'rack'), fc.constantFrom(...ROLES, ...TAGS, ...ENVIRONMENTS, 'web-*', 'r?', '*', 'db-1-0')).map(([f, v]) => `${f}:${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('*:*', 'SAMETAG', 'roles:web\\*', 'roles:"quoted value"', 'unknownfield:x') },
);

/** Valid queries mostly; the query test also feeds it raw strings. */
export const query: fc.Arbitrary<string> = fc.letrec<{ q: string }>((tie) => ({
  q: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    queryTerm,
    fc.tuple(tie('q'), fc.constantFrom(' AND ', ' OR ', ' AND NOT '), tie('q')).map(([a, op, b]) => `${a}${op}${b}`),
    tie('q').map((q) => `NOT ${q}`),
    tie('q').map((q) => `(${q})`),
  ),
})).q;

/** Queries nested past MAX_QUERY_DEPTH (and far past the stack's depth), balanced or not, or broken. */
export const hostileQuery = fc.oneof(
  fc.tuple(fc.constantFrom(99, 101, 6000, 20000), fc.constantFrom('(', 'NOT ', 'NOT ('), fc.boolean()).map(([n, open, balanced]) => `${open.repeat(n)}roles:web${balanced && open.includes('(') ? ')'.repeat(n) : ''}`),
  fc.tuple(query, fc.constantFrom(' and ', ' ', ' AND', ')', '(', ' OR OR ', ':'), query).map(([a, op, b]) => `${a}${op}${b}`),
  hostile,
);

/** `on:` selects the hosts that carry a rule: no SAMETAG there (no compiled host to share tags with). */
const onQuery = query.filter((q) => !q.includes('SAMETAG'));

const peer = fc.oneof({ weight: 3, arbitrary: query }, { weight: 2, arbitrary: fc.constantFrom('10.1.2.3', '192.0.2.0/24', '2001:db8::/64', '0.0.0.0/0', '::/0', 'web-1-0') });

const ports = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom('http', 'https', 'ssh', 'domain', '8000:8100', '1024:65535'), fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 3 }));

/** A rule that is valid on its own: fields that fit its direction, protocol and action. */
const rule = fc
  .record({
    direction: fc.constantFrom('in', 'out'),
    protocol: fc.constantFrom('tcp', 'udp', 'icmp', 'icmpv6', 'all', 'vrrp'),
    action: fc.constantFrom('accept', 'accept', 'drop', 'reject', 'log'),
    on: fc.option(onQuery, { nil: undefined }),
    peers: fc.oneof(peer, fc.array(peer, { minLength: 1, maxLength: 3 })),
    dport: ports,
    sport: fc.option(fc.constantFrom(53, '1024:65535'), { nil: undefined }),
    interface: fc.option(fc.constantFrom('default', 'lan', ...INTERFACES), { nil: undefined }),
    user: fc.option(fc.constantFrom('app', 'root'), { nil: undefined }),
    env: fc.option(fc.constantFrom(...ENVIRONMENTS), { nil: undefined }),
    order: fc.option(fc.integer({ min: 1, max: 10000 }), { nil: undefined }),
    limit: fc.option(fc.record({ rate: fc.constantFrom('10/minute', '5/second'), burst: fc.integer({ min: 1, max: 50 }), per: fc.constantFrom('source', 'destination', 'rule') }), { nil: undefined }),
    icmp: fc.option(fc.constantFrom(['echo-request'], ['echo-reply', 'destination-unreachable']), { nil: undefined }),
    expires: fc.option(fc.constantFrom('2099-01-01T00:00:00Z', '2000-01-01T00:00:00Z'), { nil: undefined }),
  })
  .map((r) => {
    const ported = r.protocol === 'tcp' || r.protocol === 'udp';
    return {
      ...(r.on === undefined ? {} : { on: r.on }),
      direction: r.direction,
      protocol: r.protocol,
      ...(r.action === 'accept' ? {} : { action: r.action }),
      [r.direction === 'in' ? 'source' : 'destination']: r.peers,
      ...(ported ? { dport: r.dport, ...(r.sport === undefined ? {} : { sport: r.sport }) } : {}),
      ...(r.interface === undefined ? {} : { interface: r.interface }),
      ...(r.user === undefined || r.direction === 'in' ? {} : { user: r.user }),
      ...(r.env === undefined ? {} : { env: r.env }),
      ...(r.order === undefined ? {} : { order: r.order }),
      ...(r.limit === undefined || !ported ? {} : { limit: r.limit }),
      ...(r.icmp === undefined || r.protocol !== 'icmp' ? {} : { icmp_type: r.icmp }),
      ...(r.expires === undefined ? {} : { expires: r.expires }),
    };
  });

const raw = fc.record(
  {
    on: onQuery,
    nft: fc.constantFrom('add rule inet palisade input ct state invalid drop', 'add rule inet palisade output accept'),
    iptables: fc.constantFrom({ table: 'filter', rule: '-A INPUT -m conntrack --ctstate INVALID -j DROP' }, { table: 'nat', rule: '-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 8080' }, { table: 'filter', rule: '-A OUTPUT -m owner --uid-owner 0 -j ACCEPT' }),
  },
  { requiredKeys: [] },
);

const settings = fc.record(
  {
    input_drop: fc.boolean(),
    output_drop: fc.boolean(),
    input_drop_log: fc.boolean(),
    output_drop_log: fc.boolean(),
    rule_comments: fc.boolean(),
    default_action: fc.constantFrom('drop', 'reject'),
  },
  { requiredKeys: [] },
);

const ruleName = fc.constantFrom('Web in', 'DB from web', 'SSH', 'Ping', 'Block', 'A rule with a long name that goes on and on', 'Règle é', 'ルール');

/** Values no field should take quietly: wrong kinds, out of range, injections, deep nesting. */
const hostileValue = fc.oneof(
  { weight: 4, arbitrary: hostile },
  { weight: 1, arbitrary: hostileQuery },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 65536, 4294967296, 1.5, true, null, [], {}, [[['x']]], { a: { b: 'c' } }) },
  { weight: 1, arbitrary: fc.constantFrom(5, 1000).map(nested) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).map((k) => ({ [k]: 'x' })) },
  { weight: 2, arbitrary: oddAddress },
);

/** Keys a hostile value may land on: the document's own, and ones it does not know. */
const HOST_KEYS = ['name', 'environment', 'roles', 'tags', 'interfaces', 'lan', 'users', 'attributes', 'unknown'];
const RULE_KEYS = ['on', 'direction', 'protocol', 'action', 'order', 'user', 'service', 'interface', 'source', 'destination', 'dport', 'sport', 'icmp_type', 'limit', 'expires', 'env', 'options', 'unknown'];

type Json = Record<string, unknown>;

/** Replaces (or adds) one value somewhere in the documents: a host's field, an interface or user name, a rule's field or name. */
function mutate(hosts: Json[], rules: Array<[string, Json]>, at: number, key: number, value: unknown, where: number): void {
  const h = hosts[at % hosts.length] as Json;
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'x';
  switch (where) {
    case 0:
      h[HOST_KEYS[key % HOST_KEYS.length] as string] = value;
      return;
    case 1:
      h.interfaces = { [text]: ['10.9.9.9'] };
      h.lan = text;
      return;
    case 2:
      h.users = { [text]: 4242 };
      return;
    case 3:
      h.interfaces = { eth0: [value] };
      return;
  }
  const entry = rules[at % Math.max(rules.length, 1)];
  if (entry === undefined) return;
  if (where === 4) entry[0] = text;
  else entry[1][RULE_KEYS[key % RULE_KEYS.length] as string] = value;
}

export interface Documents {
  policy: string;
  inventory: string;
  /** The inventory's file extension (the loader picks the parser from it). */
  inventoryExt: 'yaml' | 'json';
}

/** Serialises to YAML (or JSON, which is YAML too), then sometimes mangles the text. */
function text(value: unknown, json: boolean): fc.Arbitrary<string> {
  const base = json ? JSON.stringify(value, null, 1) : stringify(value, { aliasDuplicateObjects: false });
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(base) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(base.length), hostile).map(([at, insert]) => base.slice(0, at) + insert + base.slice(at)) },
    { weight: 1, arbitrary: fc.nat(base.length).map((at) => base.slice(0, at)) },
  );
}

/** Texts no serialiser writes: YAML nested far too deep, aliases to missing anchors, alias bombs, invalid UTF-8-ish text. */
const hostileText = fc.constantFrom(
  `hosts:\n  - name: a\n    attributes: { x: ${'['.repeat(20000)}${']'.repeat(20000)} }\n`,
  'hosts:\n  - name: a\n    roles: *missing\n',
  `a: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`).join('\n')}\n`,
  '\ufeffhosts: []\n',
  'rules:\n  R\ufffd: { direction: in, protocol: tcp, source: 10.0.0.1, dport: 22 }\n',
  '[]',
  'null',
  '',
  '{',
  `${'- '.repeat(5000)}x\n`,
);

export const documents: fc.Arbitrary<Documents> = fc
  .integer({ min: 1, max: 6 })
  .chain((count) =>
    fc.record({
      hosts: fc.tuple(...Array.from({ length: count }, (_, i) => host(i))),
      rules: fc.array(fc.tuple(ruleName, rule), { maxLength: 6 }),
      raw: fc.array(fc.tuple(ruleName, raw), { maxLength: 2 }),
      settings: fc.option(settings, { nil: undefined }),
      json: fc.boolean(),
      array: fc.boolean(),
      mutations: fc.array(fc.tuple(fc.nat(), fc.nat(), hostileValue, fc.integer({ min: 0, max: 5 })), { maxLength: 2 }),
    }),
  )
  .chain(({ hosts, rules, raw: raws, settings: s, json, array, mutations }) => {
    const copies = hosts.map((h) => structuredClone(h));
    const named = rules.map(([name, r], i): [string, Json] => [`${name} ${i}`, structuredClone(r) as Json]);
    for (const [at, key, value, where] of mutations) mutate(copies, named, at, key, value, where);
    const policyDoc = {
      ...(s === undefined ? {} : { settings: s }),
      rules: Object.fromEntries(named),
      ...(raws.length === 0 ? {} : { raw: Object.fromEntries(raws.map(([name, r], i) => [`${name} raw ${i}`, r])) }),
    };
    const inventoryDoc = array && json ? copies : { hosts: copies };
    /* A raw rule's text goes to the kernel tools as it is (apply checks it with `nft -c` first): mangled, `check` cannot know. */
    const policy = raws.length === 0 ? text(policyDoc, false) : fc.constant(stringify(policyDoc));
    return fc.record({
      policy: fc.oneof({ weight: 12, arbitrary: policy }, { weight: 1, arbitrary: hostileText }),
      inventory: fc.oneof({ weight: 12, arbitrary: text(inventoryDoc, json) }, { weight: 1, arbitrary: hostileText }),
      inventoryExt: fc.constant(json ? ('json' as const) : ('yaml' as const)),
    });
  });
