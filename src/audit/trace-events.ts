/**
 * `nft monitor trace` output → what decided a traced packet. Lines look like
 * `trace id 6a1f2b3c inet palisade input rule tcp dport 22 counter accept comment "failsafe in 1" (verdict accept)`,
 * `trace id 6a1f2b3c inet palisade input policy accept` or `... input verdict continue`.
 */
export interface TraceEvent {
  id: string;
  family: string;
  table: string;
  chain: string;
  kind: 'packet' | 'rule' | 'verdict' | 'policy';
  /** The rule text, or the packet description. */
  text: string;
  /** accept, drop, reject, jump <chain>, continue, return...; null on packet lines. */
  verdict: string | null;
}

export interface TraceDecision {
  table: string;
  chain: string;
  /** The deciding rule's text; null when the chain policy decided. */
  rule: string | null;
  verdict: string;
}

const LINE = /^trace id (\S+) (\S+) (\S+) (\S+) (packet:|rule|verdict|policy) ?(.*)$/;

export function parseTraceLine(line: string): TraceEvent | null {
  const m = LINE.exec(line.trim());
  if (m === null) return null;
  const [, id, family, table, chain, kindText, rest] = m as unknown as [string, string, string, string, string, string, string];
  const kind = kindText === 'packet:' ? 'packet' : (kindText as TraceEvent['kind']);
  if (kind === 'rule') {
    const v = /\s*\(verdict ([^)]*)\)\s*$/.exec(rest);
    const rule = (v === null ? rest : rest.slice(0, v.index)).replace(/\bcounter packets \d+ bytes \d+ ?/, '').trim();
    return { id, family, table, chain, kind, text: rule, verdict: v?.[1] ?? null };
  }
  if (kind === 'packet') return { id, family, table, chain, kind, text: rest, verdict: null };
  return { id, family, table, chain, kind, text: rest, verdict: rest.split(/\s+/).slice(0, kind === 'verdict' && /^(jump|goto)/.test(rest) ? 2 : 1).join(' ') };
}

export function parseTrace(text: string): TraceEvent[] {
  return text.split('\n').flatMap((line) => {
    const event = parseTraceLine(line);
    return event === null ? [] : [event];
  });
}

const TERMINAL = ['accept', 'drop', 'reject', 'queue'];

/** The first terminal verdict in `table` (palisade's, not the trace table) for each trace id, in order. */
export function decisions(events: readonly TraceEvent[], table: string): TraceDecision[] {
  const found = new Map<string, TraceDecision>();
  for (const e of events) {
    if (e.table !== table || found.has(e.id) || e.verdict === null) continue;
    const verdict = e.verdict.split(' ')[0] as string;
    if (!TERMINAL.includes(verdict)) continue;
    found.set(e.id, { table: e.table, chain: e.chain, rule: e.kind === 'rule' ? e.text : null, verdict });
  }
  return [...found.values()];
}
