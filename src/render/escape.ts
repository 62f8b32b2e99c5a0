/**
 * Text that goes into kernel rule files: comments and log prefixes reduced to a charset no shell, nft or
 * iptables-restore parser gives a meaning to, and names checked against the charset they were validated to
 * upstream (defense in depth: a name that reaches a renderer unchecked must not be able to inject rules).
 */
import { createHash } from 'node:crypto';
import { InternalError } from '../diagnostics.ts';
import { NAME_RULES } from '../inventory/names.ts';

/** Printable ASCII that terminates, quotes, escapes, comments, expands or opens a block somewhere. */
const UNSAFE_PRINTABLE = new Set(['"', '\\', "'", '`', '$', ';', '#', '{', '}']);

function isSafeChar(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code >= 0x20 && code <= 0x7e && !UNSAFE_PRINTABLE.has(char);
}

/**
 * Keeps printable ASCII other than `"` `\` `'` `` ` `` `$` `;` `#` `{` `}`; each run of other characters
 * (newlines, quotes, non-ASCII code points) becomes one `_`. Truncated to maxBytes (the result is ASCII).
 */
export function safeComment(text: string, maxBytes: number): string {
  let out = '';
  let replacing = false;
  for (const char of text) {
    if (isSafeChar(char)) {
      out += char;
      replacing = false;
    } else if (!replacing) {
      out += '_';
      replacing = true;
    }
  }
  return out.slice(0, Math.max(0, maxBytes));
}

/** Raw rule text is placed as it is, but on one line: a line break would start a rule of its own. */
export function checkRawText(text: string): string {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) throw new InternalError(`raw rule text contains a control character: ${JSON.stringify(text)}`);
  }
  return text;
}

export type NameKind = 'interface' | 'set' | 'chain' | 'address';

const KERNEL_NAME_RULES: Record<NameKind, { pattern: RegExp; max: number }> = {
  /** The rule inventories and policies are validated with (inventory/names.ts). */
  interface: { pattern: NAME_RULES.interface.pattern, max: 15 },
  /** nft identifiers and ipset names (ipset: at most 31 characters). */
  set: { pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, max: 31 },
  /** nft identifiers: a letter or `_` first. */
  chain: { pattern: /^[A-Za-z_][A-Za-z0-9_.-]*$/, max: 64 },
  /** An IPv4 or IPv6 address or network in canonical text. */
  address: { pattern: /^[0-9A-Fa-f.:]+(\/[0-9]{1,3})?$/, max: 43 },
};

/**
 * Returns the name (or address) if it is in the safe charset and length of its kind; otherwise throws an
 * InternalError: every name was validated by the same rules before it reached a renderer.
 */
export function checkName(kind: NameKind, name: string): string {
  const rule = KERNEL_NAME_RULES[kind];
  if (name.length === 0 || name.length > rule.max || !rule.pattern.test(name)) {
    throw new InternalError(`unsafe ${kind} name ${JSON.stringify(name)}: expected ${rule.pattern.source}, at most ${rule.max} characters`);
  }
  return name;
}

/** `text` if it fits in `max` characters, else a prefix of it, `-` and 6 hex digits of its hash: deterministic and distinct. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 6);
  return `${text.slice(0, max - hash.length - 1)}-${hash}`;
}
