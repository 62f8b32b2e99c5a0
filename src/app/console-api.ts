/**
 * The console's JSON API, as types only: what src/app/console-views.ts answers and the page
 * (src/console/ui/main.ts) reads. It imports nothing but the role map's shapes (src/graph/types.ts, which
 * imports nothing), so the page type-checks for the browser without node's types and both sides share one
 * definition. Where the server holds a richer value (a fleet status row, explain's answer), the type here
 * names the part the API promises; the server's value must be assignable to it.
 */
import type { MapLayout, RoleGraph } from '../graph/types.ts';

/** Observed flows between two nodes of the map, by verdict. */
export interface FlowOverlay {
  from: string;
  to: string;
  /** As src/audit/flow.ts judges them: allowed, audited (would be dropped), dropped. */
  verdict: 'audit' | 'drop' | 'live';
  /** Distinct flows and the records they add up. */
  flows: number;
  records: number;
  services: string[];
}

export interface MapView {
  generation: number;
  mode: 'files' | 'fleet';
  source: string;
  graph: RoleGraph;
  layout: MapLayout;
  flows: FlowOverlay[];
  /** Fleet mode: node id → how many of its hosts are in each state. */
  health: Record<string, Record<string, number>>;
  problems: string[];
}

/** A host's row of `palisade fleet status` (src/app/fleet-report.ts). */
export interface FleetRow {
  host: string;
  /** ok, static, lagging, conflict, drifted, failing, down, missing, unregistered, invalid. */
  state: string;
  registered: boolean;
  member: boolean;
  alive: boolean;
  status: { policyRevision: string | null; appliedAt: string | null; error: string | null; drift?: boolean } | null;
}

export interface HostSummary {
  name: string;
  environment: string;
  roles: string[];
  tags: string[];
  addresses: string[];
  /** Fleet mode: the host's state and what its agent applied. */
  fleet: FleetRow | null;
  /** Fleet mode: the drop and reject totals its agent last published (`counters/<name>`); null when none. */
  counters: CounterTotals | null;
}

/** Packets palisade's drop rules dropped and its reject rules rejected on a host, read at `at` (ISO 8601). */
export interface CounterTotals {
  at: string;
  dropped: number;
  rejected: number;
}

/** Packets one of palisade's chains stopped: dropped (silently), rejected (answered), logged by its drop log. */
export interface ChainTotals {
  chain: string;
  dropped: number;
  rejected: number;
  logged: number;
}

/** A host's drop and reject counters, in total and per chain. */
export interface HostCounters extends CounterTotals {
  /** local: read now from this machine's kernel (the console runs on that host); fleet: what its agent last published. */
  source: 'local' | 'fleet';
  chains: ChainTotals[];
}

export interface HostPage extends HostSummary {
  users: Record<string, number>;
  nft: string;
  warnings: string[];
  sets: Array<{ name: string; definition: string; elements: number }>;
  rules: number;
  /** Its counters, when known: from this machine's kernel, or as its agent published them; null otherwise. */
  counters: HostCounters | null;
}

/** The set a side's deciding rule matches the peer in, from that host's ruleset. */
export interface SideSet {
  host: string;
  rule: string;
  set: string;
  definition: string;
  elements: number;
}

/** One side of explain's answer (src/explain/flow.ts). */
export interface ExplainedSide {
  host: string;
  direction: 'in' | 'out';
  accepted: boolean;
  decision: 'accept' | 'drop' | 'reject';
  /** A rule (`rule "NAME"`), the failsafe, or the default policy, in words. */
  decidedBy: string;
  kind: 'rule' | 'failsafe' | 'base' | 'default' | 'raw';
}

export interface PointedExplanation {
  explanation: { allowed: boolean; sides: ExplainedSide[] };
  /** Per side decided by a policy rule: where the rule is written. */
  rules: Array<{ host: string; rule: string; file: string; line: number }>;
  sets: SideSet[];
}

/** A diagnostic as `check` gives it (src/diagnostics.ts). */
export interface DiagnosticView {
  severity: string;
  message: string;
  file?: string;
  line?: number;
  col?: number;
}

export interface EdgeChange {
  from: string;
  to: string;
  /** Node labels qualified by environment, e.g. `production/api`. */
  fromLabel: string;
  toLabel: string;
  change: 'added' | 'removed' | 'changed';
  before: string[];
  after: string[];
}

/** A group of observed flows a candidate would cut, as `impact` groups them (src/audit/impact.ts). */
export interface CutGroup {
  source: string;
  destination: string;
  protocol: string;
  port: number | null;
  flows: number;
  records: number;
  droppedBy: string[];
}

export interface PendingView {
  /** The candidate policy's warnings (errors are a 422 with positioned diagnostics). */
  diagnostics: DiagnosticView[];
  graph: RoleGraph;
  layout: MapLayout;
  /** Edge changes against the current map, keyed by the pending graph's edge id where it has one. */
  changes: EdgeChange[];
  plan: {
    totals: { hosts: number; changed: number; membershipOnly: number; unchanged: number; new: number; removed: number };
    hosts: Array<{ host: string; status: string; rules: number; elements: number }>;
  };
  cut: CutGroup[];
  checked: number;
  /** `suggest`'s rules for the cut flows, as a policy file to copy. */
  suggest: string;
}

/** An error answer: a message, and for invalid input the positioned diagnostics. */
export interface ApiErrorBody {
  error: string;
  diagnostics?: DiagnosticView[];
}
