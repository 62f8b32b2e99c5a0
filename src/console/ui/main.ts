/**
 * The console page. Everything it shows comes from the JSON API and reaches the document only through
 * textContent and setAttribute (never innerHTML): a host, role or rule name is text, whatever it contains.
 * The page asks for the token once (`#token=…` in the address, kept for the tab's session) and sends it as a
 * bearer header; live updates arrive as server-sent events read through fetch, so they carry the header too.
 */

import type { ApiErrorBody, DiagnosticView, FlowOverlay, HostCounters, HostPage, HostSummary, MapView, PendingView, PointedExplanation } from '../../app/console-api.ts';
import { edgeLabel, nodeCaption, shorten } from '../../graph/render.ts';
import type { GraphEdge, GraphNode, MapLayout, RoleGraph } from '../../graph/types.ts';

const SVG = 'http://www.w3.org/2000/svg';
const $ = <T extends Element>(selector: string): T => document.querySelector(selector) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className !== undefined) e.className = className;
  return e;
}

function svg(tag: string, attributes: Record<string, string | number> = {}, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}


/* ---- the token and the API ---------------------------------------------------------------------------- */

const TOKEN_KEY = 'palisade-token';
{
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (match !== null) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1] ?? ''));
    history.replaceState(null, '', location.pathname + location.search);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token === null ? extra : { ...extra, Authorization: `Bearer ${token}` };
}

class ApiError extends Error {
  constructor(
    message: string,
    readonly diagnostics: DiagnosticView[] = [],
  ) {
    super(message);
  }
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, { ...init, headers: headers((init.headers as Record<string, string>) ?? {}) });
  const body = (await response.json()) as T & Partial<ApiErrorBody>;
  if (!response.ok) throw new ApiError(body.error ?? `HTTP ${response.status}`, body.diagnostics ?? []);
  return body;
}

/* ---- tabs --------------------------------------------------------------------------------------------- */

function showTab(name: string): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) b.classList.toggle('active', b.dataset['tab'] === name);
  for (const s of document.querySelectorAll<HTMLElement>('.tab')) s.classList.toggle('active', s.id === `tab-${name}`);
  if (name === 'hosts') void loadHosts();
}

/* ---- the map ------------------------------------------------------------------------------------------ */

let current: MapView | null = null;
let selected: Element | null = null;

/** Pan with the mouse, zoom with the wheel, by moving the viewBox. */
function panZoom(root: SVGSVGElement, width: number, height: number): void {
  let view = { x: 0, y: 0, w: width, h: height };
  const apply = (): void => root.setAttribute('viewBox', `${view.x} ${view.y} ${view.w} ${view.h}`);
  apply();
  root.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const rect = root.getBoundingClientRect();
      const factor = event.deltaY > 0 ? 1.15 : 1 / 1.15;
      const px = view.x + ((event.clientX - rect.left) / rect.width) * view.w;
      const py = view.y + ((event.clientY - rect.top) / rect.height) * view.h;
      view = { x: px - (px - view.x) * factor, y: py - (py - view.y) * factor, w: view.w * factor, h: view.h * factor };
      apply();
    },
    { passive: false },
  );
  let drag: { x: number; y: number; view: typeof view } | null = null;
  root.addEventListener('pointerdown', (event) => {
    if ((event.target as Element).closest('.node, .edge-group') !== null) return;
    drag = { x: event.clientX, y: event.clientY, view };
  });
  root.addEventListener('pointermove', (event) => {
    if (drag === null) return;
    const rect = root.getBoundingClientRect();
    view = { ...drag.view, x: drag.view.x - ((event.clientX - drag.x) / rect.width) * drag.view.w, y: drag.view.y - ((event.clientY - drag.y) / rect.height) * drag.view.h };
    apply();
  });
  const stop = (): void => {
    drag = null;
  };
  root.addEventListener('pointerup', stop);
  root.addEventListener('pointerleave', stop);
}

interface DrawOptions {
  onEdge?: (edge: GraphEdge, element: Element) => void;
  onNode?: (node: GraphNode, element: Element) => void;
  flows?: FlowOverlay[];
  health?: MapView['health'];
  edgeClass?: (edge: GraphEdge) => string;
}

const BAD_STATES = new Set(['failing', 'down', 'missing', 'unregistered', 'invalid', 'drifted', 'conflict', 'lagging']);

function drawMap(container: HTMLElement, graph: RoleGraph, layout: MapLayout, options: DrawOptions): void {
  const root = svg('svg', { role: 'img', 'aria-label': 'role map' }) as SVGSVGElement;
  const defs = svg('defs');
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#6b8bb0' }));
  defs.append(marker);
  root.append(defs);
  const groups = svg('g', { class: 'groups' });
  for (const g of layout.groups) {
    groups.append(svg('rect', { class: 'group', x: g.x, y: g.y, width: g.width, height: g.height, rx: 10 }));
    groups.append(svg('text', { class: 'group-label', x: g.x + 14, y: g.y + 22 }, shorten(g.label, 40)));
  }
  root.append(groups);
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const edgeLayer = svg('g', { class: 'edges' });
  const labels = graph.edges.length <= 80;
  for (const edge of graph.edges) {
    const line = layout.edges[edge.id];
    if (line === undefined) continue;
    const g = svg('g', { class: 'edge-group', 'data-edge': edge.id, 'data-from': nodes.get(edge.from)?.label ?? '', 'data-to': nodes.get(edge.to)?.label ?? '' });
    const extra = options.edgeClass?.(edge) ?? '';
    g.append(svg('path', { class: `edge ${edge.verdict} ${extra}`, d: line.path, 'marker-end': 'url(#arrow)' }));
    const hit = svg('path', { class: 'edge-hit', d: line.path });
    hit.append(svg('title', {}, `${nodes.get(edge.from)?.label ?? ''} → ${nodes.get(edge.to)?.label ?? ''}: ${edge.services.join('; ')}`));
    g.append(hit);
    if (labels) g.append(svg('text', { class: 'edge-label', x: line.labelX, y: line.labelY, 'text-anchor': 'middle' }, shorten(edgeLabel(edge), 40)));
    if (options.onEdge !== undefined) {
      const handler = options.onEdge;
      g.addEventListener('click', () => handler(edge, g));
    }
    edgeLayer.append(g);
  }
  root.append(edgeLayer);
  const flowLayer = svg('g', { class: 'flows' });
  for (const flow of options.flows ?? []) {
    const a = layout.nodes[flow.from];
    const b = layout.nodes[flow.to];
    if (a === undefined || b === undefined) continue;
    const path = svg('path', { class: `flow ${flow.verdict}`, d: `M ${a.x + a.width / 2} ${a.y + a.height / 2} L ${b.x + b.width / 2} ${b.y + b.height / 2}`, 'data-verdict': flow.verdict });
    path.append(svg('title', {}, `${flow.verdict}: ${flow.flows} flow(s), ${flow.records} record(s): ${flow.services.join(', ')}`));
    flowLayer.append(path);
  }
  root.append(flowLayer);
  const nodeLayer = svg('g', { class: 'nodes' });
  for (const node of graph.nodes) {
    const box = layout.nodes[node.id];
    if (box === undefined) continue;
    const states = options.health?.[node.id] ?? {};
    const bad = Object.entries(states).filter(([state]) => BAD_STATES.has(state));
    const g = svg('g', { class: `node ${node.kind}${bad.length > 0 ? ' bad' : ''}`, 'data-node': node.id, 'data-label': node.label, 'data-environment': node.environment ?? '' });
    g.append(svg('title', {}, node.environment === null ? node.label : `${node.environment} / ${node.label}`));
    g.append(svg('rect', { x: box.x, y: box.y, width: box.width, height: box.height, rx: 6 }));
    g.append(svg('text', { class: 'node-label', x: box.x + 10, y: box.y + 18 }, shorten(node.label, 24)));
    const caption = nodeCaption(node);
    const health = bad.map(([state, n]) => `${n} ${state}`).join(', ');
    g.append(svg('text', { class: 'node-caption', x: box.x + 10, y: box.y + box.height - 10 }, health === '' ? caption : `${caption} · ${health}`));
    if (options.onNode !== undefined) {
      const handler = options.onNode;
      g.addEventListener('click', () => handler(node, g));
    }
    nodeLayer.append(g);
  }
  root.append(nodeLayer);
  container.replaceChildren(root);
  panZoom(root, Math.max(layout.width, 400), Math.max(layout.height, 300));
}

function select(element: Element): void {
  selected?.classList.remove('selected');
  selected = element;
  element.classList.add('selected');
}

function mapQuery(): string {
  const params = new URLSearchParams();
  const environment = $<HTMLSelectElement>('#f-environment').value;
  const search = $<HTMLInputElement>('#f-search').value;
  const port = $<HTMLInputElement>('#f-port').value;
  if (environment !== '') params.set('environment', environment);
  if (search !== '') params.set('search', search);
  if (port !== '') params.set('port', port);
  for (const role of expanded) params.append('expand', role);
  for (const env of opened) params.append('open', env);
  return params.toString();
}

const expanded = new Set<string>();
/** Environments shown as their roles on a map that folds them (too many roles to read). */
const opened = new Set<string>();

/** A button that changes what the map shows (`change`), then loads it again. */
function mapButton(text: string, change: () => void): HTMLButtonElement {
  const button = el('button', text);
  button.type = 'button';
  button.addEventListener('click', () => {
    change();
    void loadMap();
  });
  return button;
}

/** Says how many roles a large map folds into environments, with a way to show them all or fold them again. */
function mapHint(view: MapView): void {
  const hint = $<HTMLElement>('#map-hint');
  const hidden = view.graph.hiddenRoles ?? 0;
  const parts: HTMLElement[] = [];
  if (hidden > 0) {
    const folded = view.graph.nodes.filter((n) => n.kind === 'environment').length;
    parts.push(el('span', `${hidden} roles hidden in ${folded} environment${folded === 1 ? '' : 's'} (too many to read at once): click an environment to expand it, or filter. `));
    parts.push(
      mapButton('Show every role', () => {
        for (const env of view.graph.environments) opened.add(env);
      }),
    );
  }
  if (opened.size > 0) parts.push(mapButton('Fold environments again', () => opened.clear()));
  hint.replaceChildren(...parts);
  hint.hidden = parts.length === 0;
}

async function loadMap(): Promise<void> {
  const started = performance.now();
  const details = $<HTMLElement>('#details');
  let view: MapView;
  try {
    view = await api<MapView>(`/api/map?${mapQuery()}`);
  } catch (cause) {
    details.replaceChildren(el('p', (cause as Error).message, 'diag'));
    return;
  }
  current = view;
  $<HTMLElement>('#source').textContent = `${view.mode === 'fleet' ? 'fleet' : 'files'}: ${view.source}`;
  const select2 = $<HTMLSelectElement>('#f-environment');
  const chosen = select2.value;
  const known = new Set([...select2.options].map((o) => o.value));
  for (const env of view.graph.environments) {
    if (!known.has(env)) {
      const option = el('option', env);
      option.value = env;
      select2.append(option);
    }
  }
  select2.value = chosen;
  $<HTMLElement>('#problems').replaceChildren(...view.problems.slice(0, 20).map((p) => el('p', p)));
  mapHint(view);
  drawMap($<HTMLElement>('#map'), view.graph, view.layout, { onEdge: showEdge, onNode: showNode, flows: view.flows, health: view.health });
  const elapsed = performance.now() - started;
  $<HTMLElement>('#map-stats').textContent = `${view.graph.nodes.length} nodes, ${view.graph.edges.length} edges, ${view.graph.hostCount} hosts · generation ${view.generation} · ${Math.round(elapsed)} ms`;
  document.body.dataset['generation'] = String(view.generation);
  document.body.dataset['mapMs'] = String(Math.round(elapsed));
  /* Milliseconds since the page's navigation started: what the browser tests and the benchmark read. */
  document.body.dataset['mapReadyAt'] ??= String(Math.round(performance.now()));
}

function nodeLabel(id: string): string {
  const node = current?.graph.nodes.find((n) => n.id === id);
  if (node === undefined) return id;
  return node.environment === null ? node.label : `${node.environment}/${node.label}`;
}

/** An address to explain with for a node: its first host, or a network's own address (not for 0.0.0.0/0). */
function endpointOf(node: GraphNode | undefined): string | null {
  if (node === undefined) return null;
  if (node.hosts.length > 0) return node.hosts[0] ?? null;
  if (node.kind === 'network') {
    const [address, prefix] = node.label.split('/');
    return prefix === '0' || address === undefined ? null : address;
  }
  return null;
}

function showEdge(edge: GraphEdge, element: Element): void {
  select(element);
  const details = $<HTMLElement>('#details');
  const from = current?.graph.nodes.find((n) => n.id === edge.from);
  const to = current?.graph.nodes.find((n) => n.id === edge.to);
  const parts: HTMLElement[] = [el('h2', `${nodeLabel(edge.from)} → ${nodeLabel(edge.to)}`)];
  const list = el('ul');
  list.id = 'edge-rules';
  for (const p of edge.permissions) {
    const item = el('li');
    item.className = 'rule';
    item.dataset['rule'] = p.rule;
    item.append(el('strong', p.rule), el('br'));
    const what = `${p.action} ${p.protocol}${p.ports === null ? '' : ` ${p.ports}`}${p.user === null ? '' : ` as ${p.user}`}${p.service === null ? '' : ` (service ${p.service})`}`;
    item.append(el('span', `${what} · ${p.direction === 'in' ? 'inbound on the receiver' : 'outbound on the sender'}`), el('br'));
    item.append(el('code', `${p.file}:${p.line}`), el('span', ` · ${p.direction === 'in' ? 'source' : 'destination'}: ${p.peers}${p.on === null ? '' : ` · on: ${p.on}`}`));
    list.append(item);
  }
  parts.push(el('h3', 'Rules'), list);
  const explainBox = el('div');
  explainBox.id = 'explain';
  parts.push(el('h3', 'Explain'), explainBox);
  details.replaceChildren(...parts);
  const source = endpointOf(from);
  const destination = endpointOf(to);
  const first = edge.permissions.find((p) => p.action === 'accept') ?? edge.permissions[0];
  if (source === null || destination === null || first === undefined) {
    explainBox.append(el('p', 'explain needs a host or an address on both ends', 'hint'));
    return;
  }
  const port = first.ports === null ? (first.protocol === 'all' ? 'icmp' : first.protocol) : `${first.ports.split(/[-,]/)[0]}/${first.protocol}`;
  const user = edge.permissions.find((p) => p.direction === 'out' && p.user !== null)?.user ?? null;
  document.body.dataset['edgeShownAt'] = String(Math.round(performance.now()));
  explainInto(explainBox, source, destination, port, user);
}

/** explain's answer for a flow, with the deciding rules' file:line and the sets they match in, into box. */
function explainInto(box: HTMLElement, source: string, destination: string, port: string, user: string | null): void {
  const params = new URLSearchParams({ from: source, to: destination, port });
  if (user !== null && user !== '') params.set('user', user);
  box.append(el('p', `palisade explain ${source} ${destination} ${port}${user === null || user === '' ? '' : ` --user ${user}`}`, 'hint'));
  void api<PointedExplanation>(`/api/explain?${params.toString()}`)
    .then((result) => {
      box.append(el('p', result.explanation.allowed ? 'allowed' : 'denied', result.explanation.allowed ? 'state-ok' : 'cut'));
      for (const side of result.explanation.sides) box.append(el('p', `${side.direction === 'out' ? 'out of' : 'into'} ${side.host}: ${side.decision} by ${side.decidedBy}`));
      for (const r of result.rules) box.append(el('p', `${r.rule}: ${r.file}:${r.line}`));
      for (const s of result.sets) box.append(el('p', `set ${s.set} on ${s.host} (${s.elements} elements): ${s.definition}`));
    })
    .catch((cause: Error) => box.append(el('p', cause.message, 'diag')));
}

function showNode(node: GraphNode, element: Element): void {
  select(element);
  const details = $<HTMLElement>('#details');
  const parts: HTMLElement[] = [el('h2', node.environment === null ? node.label : `${node.environment} / ${node.label}`)];
  if (node.kind === 'environment' && node.environment !== null) {
    const environment = node.environment;
    parts.push(mapButton(`Expand: show its ${node.roles?.length ?? 0} roles`, () => opened.add(environment)), el('h3', 'Roles'), el('p', (node.roles ?? []).join(', ')));
  }
  if (node.kind === 'role' && node.environment !== null) {
    const key = `${node.environment}/${node.label}`;
    parts.push(mapButton('Show its hosts on the map', () => expanded.add(key)));
  }
  if (node.kind === 'host' && node.environment !== null) parts.push(mapButton('Fold hosts back into roles', () => expanded.clear()));
  if (node.hosts.length > 0) {
    const list = el('ul');
    for (const host of node.hosts.slice(0, 500)) {
      const item = el('li');
      const link = el('a', host);
      link.href = '#';
      link.addEventListener('click', (event) => {
        event.preventDefault();
        showTab('hosts');
        void loadHost(host);
      });
      item.append(link);
      list.append(item);
    }
    parts.push(el('h3', `${node.hosts.length} host(s)`), list);
  }
  details.replaceChildren(...parts);
}

/* ---- hosts -------------------------------------------------------------------------------------------- */

/** A column: its title, its text, and for counts the number it sorts by (unknown counts sort first). */
const COLUMNS: Array<[string, (h: HostSummary) => string, ((h: HostSummary) => number)?]> = [
  ['host', (h) => h.name],
  ['environment', (h) => h.environment],
  ['roles', (h) => h.roles.join(', ')],
  ['addresses', (h) => h.addresses.join(' ')],
  ['state', (h) => h.fleet?.state ?? ''],
  ['policy applied', (h) => h.fleet?.status?.policyRevision?.slice(0, 12) ?? ''],
  ['applied at', (h) => h.fleet?.status?.appliedAt ?? ''],
  ['drift', (h) => (h.fleet?.status?.drift === undefined ? '' : h.fleet.status.drift ? 'drifted' : 'none')],
  ['dropped', (h) => (h.counters === null ? '' : String(h.counters.dropped)), (h) => h.counters?.dropped ?? -1],
  ['rejected', (h) => (h.counters === null ? '' : String(h.counters.rejected)), (h) => h.counters?.rejected ?? -1],
  ['last error', (h) => h.fleet?.status?.error ?? ''],
];
let hostRows: HostSummary[] = [];
let sortColumn = 0;
let sortDown = false;

function renderHosts(): void {
  const head = $<HTMLTableRowElement>('#hosts thead tr');
  head.replaceChildren(
    ...COLUMNS.map(([name], i) => {
      const th = el('th', name + (i === sortColumn ? (sortDown ? ' ▼' : ' ▲') : ''));
      th.addEventListener('click', () => {
        sortDown = sortColumn === i ? !sortDown : false;
        sortColumn = i;
        renderHosts();
      });
      return th;
    }),
  );
  const [, text = (h: HostSummary) => h.name, count] = COLUMNS[sortColumn] ?? [];
  const order = count === undefined ? (a: HostSummary, b: HostSummary) => text(a).localeCompare(text(b)) : (a: HostSummary, b: HostSummary) => count(a) - count(b) || a.name.localeCompare(b.name);
  const rows = [...hostRows].sort((a, b) => order(a, b) * (sortDown ? -1 : 1));
  $<HTMLElement>('#hosts tbody').replaceChildren(
    ...rows.slice(0, 2000).map((h) => {
      const tr = el('tr');
      tr.dataset['host'] = h.name;
      for (const [name, get] of COLUMNS) {
        const td = el('td', get(h), name === 'state' ? `state-${get(h)}` : undefined);
        td.dataset['column'] = name;
        tr.append(td);
      }
      tr.addEventListener('click', () => void loadHost(h.name));
      return tr;
    }),
  );
}

async function loadHosts(): Promise<void> {
  try {
    hostRows = (await api<{ hosts: HostSummary[] }>('/api/hosts')).hosts;
    renderHosts();
  } catch (cause) {
    $<HTMLElement>('#host-page').replaceChildren(el('p', (cause as Error).message, 'diag'));
  }
}

function countersTitle(counters: HostCounters | null): string {
  if (counters === null) return 'Counters: unknown (the console runs elsewhere, and no agent published them)';
  const where = counters.source === 'local' ? 'read now on this host' : `as its agent published them at ${counters.at}`;
  return `Counters: ${counters.dropped} dropped, ${counters.rejected} rejected (${where})`;
}

async function loadHost(name: string): Promise<void> {
  const page = $<HTMLElement>('#host-page');
  try {
    const host = await api<HostPage>(`/api/hosts/${encodeURIComponent(name)}`);
    const sets = el('table');
    for (const s of host.sets) {
      const tr = el('tr');
      tr.append(el('td', s.name), el('td', String(s.elements)), el('td', s.definition));
      sets.append(tr);
    }
    const counters = el('table');
    counters.id = 'host-counters';
    for (const c of host.counters?.chains ?? []) {
      const tr = el('tr');
      tr.append(el('td', c.chain), el('td', `${c.dropped} dropped`), el('td', `${c.rejected} rejected`), el('td', `${c.logged} logged`));
      counters.append(tr);
    }
    const nft = el('pre', host.nft);
    nft.id = 'host-nft';
    page.replaceChildren(
      el('h2', host.name),
      el('p', `${host.environment} · ${host.roles.join(', ')} · ${host.addresses.join(' ')} · ${host.rules} rules${host.fleet === null ? '' : ` · ${host.fleet.state}`}`),
      ...host.warnings.map((w) => el('p', w, 'diag')),
      el('h3', 'Sets'),
      sets,
      el('h3', countersTitle(host.counters)),
      counters,
      el('h3', 'Ruleset (nft)'),
      nft,
    );
    page.scrollIntoView();
  } catch (cause) {
    page.replaceChildren(el('p', (cause as Error).message, 'diag'));
  }
}

/* ---- pending policy ----------------------------------------------------------------------------------- */

/** Set while the text area holds the server's `--pending` file: its errors then name that file. */
let pendingFile: string | null = null;

async function loadPendingFile(): Promise<void> {
  let file: { name: string; text: string };
  try {
    file = await api<{ name: string; text: string }>('/api/pending');
  } catch {
    return;
  }
  $<HTMLTextAreaElement>('#pending-text').value = file.text;
  pendingFile = file.name;
  $<HTMLElement>('#pending-source').textContent = `from ${file.name} (on the server)`;
  await runPending();
}

async function runPending(): Promise<void> {
  const out = $<HTMLElement>('#pending-result');
  const mapBox = $<HTMLElement>('#pending-map');
  out.replaceChildren(el('p', 'evaluating…', 'hint'));
  mapBox.replaceChildren();
  try {
    const path = pendingFile === null ? '/api/pending' : '/api/pending?file';
    const view = await api<PendingView>(path, { method: 'POST', body: $<HTMLTextAreaElement>('#pending-text').value, headers: { 'Content-Type': 'text/plain' } });
    const parts: HTMLElement[] = [];
    for (const d of view.diagnostics) parts.push(el('p', `${d.file ?? ''}:${d.line ?? ''}:${d.col ?? ''}: ${d.severity}: ${d.message}`, 'diag'));
    const totals = view.plan.totals;
    parts.push(el('p', `plan: ${totals['changed'] ?? 0} host(s) change their rules, ${totals['membershipOnly'] ?? 0} only set members, ${totals['unchanged'] ?? 0} unchanged`));
    const changes = el('ul');
    changes.id = 'pending-changes';
    for (const c of view.changes) {
      const item = el('li', `${c.change}: ${c.fromLabel} → ${c.toLabel}: ${(c.after.length > 0 ? c.after : c.before).join('; ')}`);
      item.dataset['change'] = c.change;
      changes.append(item);
    }
    parts.push(el('h3', `Map changes (${view.changes.length})`), changes);
    const cut = el('table');
    cut.id = 'pending-cut';
    const head = el('tr');
    for (const h of ['source', 'destination', 'service', 'flows', 'records', 'dropped by']) head.append(el('th', h));
    cut.append(head);
    for (const g of view.cut) {
      const tr = el('tr');
      tr.className = 'cut';
      tr.append(el('td', g.source), el('td', g.destination), el('td', g.port === null ? g.protocol : `${g.protocol} ${g.port}`), el('td', String(g.flows)), el('td', String(g.records)), el('td', g.droppedBy.join('; ')));
      cut.append(tr);
    }
    parts.push(el('h3', `Observed flows it would cut: ${view.cut.length} group(s) of ${view.checked} flow(s) checked`), cut);
    const suggest = el('pre', view.suggest);
    suggest.id = 'pending-suggest';
    parts.push(el('h3', 'Rules that would keep them (suggest)'), suggest);
    out.replaceChildren(...parts);
    const changed = new Map(view.changes.filter((c) => c.from !== '').map((c) => [`${c.from} ${c.to}`, c.change]));
    drawMap(mapBox, view.graph, view.layout, { edgeClass: (e) => changed.get(`${e.from} ${e.to}`) ?? '' });
  } catch (cause) {
    const error = cause as ApiError;
    const list = el('div');
    list.id = 'pending-errors';
    list.append(el('p', error.message, 'diag'));
    for (const d of error.diagnostics ?? []) list.append(el('p', `${d.file ?? ''}:${d.line ?? ''}:${d.col ?? ''}: ${d.severity}: ${d.message}`, 'diag'));
    out.replaceChildren(list);
  }
}

/* ---- live updates ------------------------------------------------------------------------------------- */

async function follow(): Promise<void> {
  const live = $<HTMLElement>('#live');
  for (;;) {
    try {
      const response = await fetch('/api/events', { headers: headers({ Accept: 'text/event-stream' }) });
      if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
      live.textContent = 'live';
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(message)?.[1];
          if (data === undefined) continue;
          const { generation } = JSON.parse(data) as { generation: number };
          if (current !== null && generation !== current.generation) {
            await loadMap();
            if ($<HTMLElement>('#tab-hosts').classList.contains('active')) await loadHosts();
          }
        }
      }
    } catch {
      live.textContent = 'reconnecting…';
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/* ---- start -------------------------------------------------------------------------------------------- */

for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) b.addEventListener('click', () => showTab(b.dataset['tab'] ?? 'map'));
$<HTMLFormElement>('#filters').addEventListener('submit', (event) => {
  event.preventDefault();
  void loadMap();
});
$<HTMLFormElement>('#explain-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = (id: string): string => $<HTMLInputElement>(id).value.trim();
  const box = el('div');
  box.id = 'explain';
  $<HTMLElement>('#details').replaceChildren(el('h2', `${value('#x-from')} → ${value('#x-to')}`), box);
  explainInto(box, value('#x-from'), value('#x-to'), value('#x-port'), value('#x-user'));
});
$<HTMLButtonElement>('#pending-run').addEventListener('click', () => void runPending());
void loadMap().then(() => Promise.all([follow(), loadPendingFile()]));
