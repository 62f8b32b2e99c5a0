/**
 * One line of the nft backend's canonical listing (a libnftables JSON object: table, chain, set or rule) in
 * nft's own syntax, for people: `rule input: ip saddr @pal4_… tcp dport 22 counter accept comment "ssh"`.
 * Expressions palisade does not write are shown as their JSON; text that is not such an object is returned
 * as it is. Strings are quoted with JSON escapes, so no kernel text reaches a terminal raw.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: Json | undefined): v is Obj => v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
const quote = (s: string): string => JSON.stringify(s);
const BARE_META = new Set(['iifname', 'oifname', 'iif', 'oif']);

function word(v: Json | undefined): string {
  if (typeof v === 'string') return /^[\w@.:/-]+$/.test(v) ? v : quote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v ?? null);
}

function value(v: Json | undefined): string {
  if (Array.isArray(v)) return v.map(value).join(',');
  if (!isObj(v)) return word(v);
  if (Array.isArray(v.set)) return `{ ${v.set.map(value).join(', ')} }`;
  if (Array.isArray(v.range)) return `${value(v.range[0])}-${value(v.range[1])}`;
  if (isObj(v.prefix)) return `${word(v.prefix.addr)}/${word(v.prefix.len)}`;
  if (isObj(v.elem)) return value(v.elem.val);
  return JSON.stringify(v);
}

function operand(v: Json | undefined): string {
  if (!isObj(v)) return value(v);
  if (isObj(v.meta)) {
    const key = String(v.meta.key);
    return BARE_META.has(key) ? key : `meta ${key}`;
  }
  if (isObj(v.payload)) return `${word(v.payload.protocol)} ${word(v.payload.field)}`;
  if (isObj(v.ct)) return `ct ${v.ct.dir === undefined ? '' : `${word(v.ct.dir)} `}${String(v.ct.key)}`;
  if (isObj(v.socket)) return `socket ${word(v.socket.key)}${v.socket.level === undefined ? '' : ` level ${word(v.socket.level)}`}`;
  return value(v);
}

function statement(e: Json): string {
  if (!isObj(e)) return JSON.stringify(e);
  const [key, body] = Object.entries(e)[0] ?? ['', null];
  switch (key) {
    case 'match': {
      if (!isObj(body)) break;
      const op = body.op === '==' || body.op === 'in' ? '' : `${String(body.op)} `;
      const interfaceName = isObj(body.left) && isObj(body.left.meta) && BARE_META.has(String(body.left.meta.key)) && typeof body.right === 'string';
      return `${operand(body.left)} ${op}${interfaceName ? quote(body.right as string) : value(body.right)}`;
    }
    case 'counter':
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return key;
    case 'jump':
    case 'goto':
      return isObj(body) ? `${key} ${word(body.target)}` : key;
    case 'reject': {
      if (!isObj(body)) return 'reject';
      return body.type === 'tcp reset' ? 'reject with tcp reset' : `reject with ${word(body.type)}${body.expr === undefined ? '' : ` type ${word(body.expr)}`}`;
    }
    case 'log': {
      if (!isObj(body)) return 'log';
      const parts = ['log'];
      if (body.prefix !== undefined) parts.push(`prefix ${quote(String(body.prefix))}`);
      if (body.group !== undefined) parts.push(`group ${word(body.group)}`);
      if (body.level !== undefined) parts.push(`level ${word(body.level)}`);
      return parts.join(' ');
    }
    case 'limit': {
      if (!isObj(body)) break;
      const unit = body.rate_unit === undefined || body.rate_unit === 'packets' ? '' : ` ${word(body.rate_unit)}`;
      return `limit rate ${word(body.rate)}${unit}/${word(body.per)}${body.burst === undefined ? '' : ` burst ${word(body.burst)} packets`}`;
    }
  }
  return JSON.stringify(e);
}

function item(obj: Obj): string | null {
  if (isObj(obj.table)) return `table ${word(obj.table.family)} ${word(obj.table.name)}`;
  if (isObj(obj.chain)) {
    const c = obj.chain;
    const base = c.hook === undefined ? '' : ` { type ${word(c.type)} hook ${word(c.hook)} priority ${word(c.prio)}; policy ${word(c.policy)}; }`;
    return `chain ${word(c.name)}${base}`;
  }
  if (isObj(obj.set)) {
    const s = obj.set;
    const flags = Array.isArray(s.flags) ? ` flags ${s.flags.map(word).join(',')};` : '';
    const elements = Array.isArray(s.elem) ? ` elements = { ${s.elem.map(value).join(', ')} }` : '';
    return `set ${word(s.name)} { type ${value(s.type)};${flags}${elements} }`;
  }
  if (isObj(obj.rule)) {
    const r = obj.rule;
    const body = Array.isArray(r.expr) ? r.expr.map(statement) : [];
    if (typeof r.comment === 'string') body.push(`comment ${quote(r.comment)}`);
    return `rule ${word(r.chain)}: ${body.join(' ')}`;
  }
  return null;
}

export function nftListingLineText(line: string): string {
  let parsed: Json;
  try {
    parsed = JSON.parse(line) as Json;
  } catch {
    return line;
  }
  return (isObj(parsed) ? item(parsed) : null) ?? line;
}
