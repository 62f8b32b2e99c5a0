/** One rule of a policy document (or of an AFW role), validated into a `Rule`; every problem is reported. */
import { isScalar, isSeq, type Node } from 'yaml';
import type { QueryNode } from '../query/ast.ts';
import { ACTIONS, DEFAULT_ORDER, PORT_PROTOCOLS, PROTOCOLS, type Action, type Direction, type Endpoint, type InterfaceSpec, type Protocol, type Rule, type RuleOptions } from './types.ts';
import { parseEndpoints } from './endpoints.ts';
import { choiceField, nameField, portsField, stringField } from './fields.ts';
import { parseQueryAt, sametagColumn } from './query-text.ts';
import { parseFrom } from './containers.ts';
import { parseExpires, parseIcmpTypes, parseLimit, parseOrder, parseService } from './rule-fields.ts';
import { didYouMean } from '../suggest.ts';
import type { Entry, SourceFile } from './yaml-source.ts';

/** Every field a rule may have (docs/policy.md documents each: test/cli/reference.test.ts). */
export const RULE_FIELDS = [
  'on', 'direction', 'protocol', 'action', 'order', 'user', 'service', 'interface', 'source', 'destination', 'dport', 'sport', 'icmp_type', 'limit', 'expires', 'env', 'options', 'from',
] as const;
const RESERVED_INTERFACES = ['any', 'none'];
const OPTIONS = { disable_env_limit: 'disableEnvLimit', disable_syntax_check: 'disableSyntaxCheck' } as const;
const DIRECTIONS: readonly Direction[] = ['in', 'out'];

/** A query as the rule's carriers: SAMETAG is refused, since there is no compiled host to compare with. */
export function parseOn(file: SourceFile, entry: Entry, rule: string): { text: string; query: QueryNode } | null {
  const text = stringField(file, entry, rule);
  if (text === null || entry.value === null) return null;
  const query = parseQueryAt(file, entry.value, text, rule);
  if (query === null) return null;
  const col = sametagColumn(query);
  if (col !== null) {
    file.error(file.innerPos(entry.value, col), '"on" cannot use SAMETAG: it has no compiled host to share tags with', rule);
    return null;
  }
  return { text, query };
}

function parseInterface(file: SourceFile, entry: Entry, rule: string): InterfaceSpec | null {
  const text = stringField(file, entry, rule);
  if (text === null) return null;
  const word = text.toLowerCase();
  if (word === 'default' || word === 'all') return { kind: 'every' };
  if (word === 'lan') return { kind: 'lan' };
  if (RESERVED_INTERFACES.includes(word)) {
    file.error(entry.value, `"interface": "${text}" is not an interface name; use "default" or "all" (every interface) or "lan" (the host's lan interface)`, rule);
    return null;
  }
  const name = nameField(file, entry, 'interface', rule);
  return name === null ? null : { kind: 'named', name };
}

function parseOptions(file: SourceFile, entry: Entry, rule: string): RuleOptions | null {
  const options: RuleOptions = { disableEnvLimit: false, disableSyntaxCheck: false };
  const items: Array<Node | null> = entry.value === null ? [] : isSeq(entry.value) ? entry.value.items.map((i) => file.resolve(i)) : [entry.value];
  let ok = true;
  for (const item of items) {
    const text = isScalar(item) && typeof item.value === 'string' ? item.value : null;
    const known = Object.keys(OPTIONS);
    if (text !== null && text in OPTIONS) {
      options[OPTIONS[text as keyof typeof OPTIONS]] = true;
    } else {
      file.error(item ?? entry.keyNode, `unknown option ${text === null ? '' : `"${text}" `}(options are ${known.join(', ')})${text === null ? '' : didYouMean(text, known)}`, rule);
      ok = false;
    }
  }
  return ok ? options : null;
}

/** Reads and checks a rule; null when it has any error. `on` given (AFW imports) replaces the `on` field. */
export function parseRule(file: SourceFile, name: string, nameNode: Node, value: Node | null, on?: { text: string; query: QueryNode }): Rule | null {
  const before = file.diagnostics.length;
  const entries = file.entries(value ?? nameNode, 'rule', { rule: name, known: RULE_FIELDS, noun: 'field' });
  if (entries === null) return null;
  const field = (key: string): Entry | undefined => entries.find((e) => e.key === key);
  const onEntry = field('on');
  if (on !== undefined && onEntry !== undefined) {
    file.error(onEntry.keyNode, `"on" is not an AFW rule field: an imported rule is carried by its role's hosts (${on.text})`, name);
  }
  const missing = (message: string): void => file.error(nameNode, message, name);
  const read = <T>(key: string, parse: (entry: Entry) => T | null): T | null | undefined => {
    const entry = field(key);
    return entry === undefined ? undefined : parse(entry);
  };

  const carriers = on ?? read('on', (e) => parseOn(file, e, name));
  const direction = read('direction', (e) => choiceField(file, e, DIRECTIONS, name));
  const protocol = read('protocol', (e) => choiceField(file, e, PROTOCOLS, name));
  if (direction === undefined) missing('missing "direction" (in or out)');
  if (protocol === undefined) missing(`missing "protocol" (${PROTOCOLS.join(', ')})`);
  const action = read('action', (e) => choiceField(file, e, ACTIONS, name));
  const order = read('order', (e) => parseOrder(file, e, name));
  const user = read('user', (e) => nameField(file, e, 'user', name));
  const service = read('service', (e) => parseService(file, e, name));
  const serviceEntry = field('service');
  if (serviceEntry !== undefined && direction === 'in') file.error(serviceEntry.keyNode, '"service" is for outbound rules: an inbound packet has no local socket yet', name);
  if (serviceEntry !== undefined && field('user') !== undefined) file.error(serviceEntry.keyNode, 'a rule takes "user" or "service", not both', name);
  const from = read('from', (e) => parseFrom(file, e, name));
  const fromEntry = field('from');
  if (fromEntry !== undefined && direction === 'in') file.error(fromEntry.keyNode, '"from" is for outbound rules of containers (direction: out); an inbound rule governs published ports by itself', name);
  if (fromEntry !== undefined && (field('user') !== undefined || serviceEntry !== undefined)) {
    file.error(fromEntry.keyNode, `a "from" rule filters containers' traffic, which has no local ${field('user') !== undefined ? 'user' : 'service'}: drop one of them`, name);
  }
  const icmpTypes = read('icmp_type', (e) => parseIcmpTypes(file, e, protocol, name));
  const limit = read('limit', (e) => parseLimit(file, e, name));
  const expires = read('expires', (e) => parseExpires(file, e, name));
  const iface = read('interface', (e) => parseInterface(file, e, name));
  const env = read('env', (e) => nameField(file, e, 'environment', name));
  const options = read('options', (e) => parseOptions(file, e, name));

  const peerField = direction === 'out' ? 'destination' : 'source';
  const wrongField = direction === 'out' ? 'source' : 'destination';
  const wrong = field(wrongField);
  if (wrong !== undefined && direction !== undefined && direction !== null) {
    file.error(wrong.keyNode, `"${wrongField}" is for ${direction === 'in' ? 'outbound' : 'inbound'} rules: an ${direction === 'in' ? 'inbound' : 'outbound'} rule takes "${peerField}"`, name);
  }
  const peerEntry = field(peerField);
  let peers: Endpoint[] | null = null;
  if (peerEntry !== undefined) peers = parseEndpoints(file, peerEntry.keyNode, peerEntry.value, peerField, name);
  else if (options?.disableSyntaxCheck === true) peers = [];
  else if (direction !== undefined && direction !== null) missing(`missing "${peerField}": an ${direction === 'in' ? 'inbound' : 'outbound'} rule says whom it ${action === 'accept' || action == null ? 'allows' : 'matches'}`);

  const dport = read('dport', (e) => portsField(file, e, name));
  const sport = read('sport', (e) => portsField(file, e, name));
  if (protocol !== undefined && protocol !== null) checkPorts(file, protocol, action ?? 'accept', field('dport'), field('sport'), nameNode, name);

  if (file.diagnostics.length !== before || direction == null || protocol == null || peers === null) return null;
  if (peers.length === 0) file.warning(nameNode, `no "${peerField}" (disable_syntax_check): the rule matches nothing until one is filled in`, name);
  return {
    name,
    on: carriers?.query ?? null,
    onText: carriers?.text ?? null,
    direction,
    protocol,
    action: action ?? 'accept',
    order: order ?? DEFAULT_ORDER,
    user: user ?? null,
    service: service ?? null,
    interface: iface ?? { kind: 'every' },
    peers,
    dport: dport ?? null,
    sport: sport ?? null,
    icmpTypes: icmpTypes ?? null,
    limit: limit ?? null,
    ...(from == null ? {} : { from }),
    expires: expires ?? null,
    env: env ?? null,
    options: options ?? { disableEnvLimit: false, disableSyntaxCheck: false },
    origin: file.pos(nameNode),
  };
}

/** An accepting tcp/udp rule names its port, as in AFW; one that drops, rejects or logs may take every port. */
function checkPorts(file: SourceFile, protocol: Protocol, action: Action, dport: Entry | undefined, sport: Entry | undefined, nameNode: Node, rule: string): void {
  if (PORT_PROTOCOLS.includes(protocol)) {
    if (dport === undefined && action === 'accept') file.error(nameNode, `missing "dport": a ${protocol} rule needs a destination port`, rule);
    return;
  }
  for (const entry of [dport, sport]) {
    if (entry !== undefined) file.error(entry.keyNode, `"${entry.key}" needs protocol tcp or udp, not ${protocol}`, rule);
  }
}
