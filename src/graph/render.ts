/**
 * The role map as a picture without a server: SVG (laid out by layout.ts, for a pull request or a wiki) and
 * Graphviz DOT (for `dot -Tpng`). Every name comes from policy or inventory and is escaped for its format.
 */
import { layoutGraph, NODE_HEIGHT } from './layout.ts';
import type { GraphEdge, GraphNode, RoleGraph } from './types.ts';

/** Characters XML 1.0 forbids (C0 controls but tab and newlines, lone surrogates, U+FFFE/U+FFFF) become U+FFFD. */
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function escapeXml(text: string): string {
  return text.replace(XML_FORBIDDEN, '\ufffd').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Longer labels are cut with an ellipsis so a hostile 10,000-character name cannot stretch the picture. */
export function shorten(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

export function nodeCaption(node: GraphNode): string {
  if (node.kind === 'network') return 'network';
  if (node.kind === 'name') return 'outside name';
  if (node.kind === 'host') return 'host';
  if (node.kind === 'environment') return `${count(node.roles?.length ?? 0, 'role')} · ${count(node.hosts.length, 'host')}`;
  return count(node.hosts.length, 'host');
}

export function edgeTitle(edge: GraphEdge, nodes: ReadonlyMap<string, GraphNode>): string {
  const from = nodes.get(edge.from)?.label ?? edge.from;
  const to = nodes.get(edge.to)?.label ?? edge.to;
  return `${from} → ${to}: ${edge.services.join('; ')}`;
}

/** At most this many services are written on an edge; the title has them all. */
const LABEL_SERVICES = 2;
/** An edge's label: its first services, or for an edge between folded environments how many arrows and rules it stands for. */
export function edgeLabel(edge: GraphEdge): string {
  if (edge.merged !== undefined) return `${count(edge.merged, 'arrow')} · ${count(edge.permissions.length, 'rule')}`;
  return edge.services.length <= LABEL_SERVICES ? edge.services.join('; ') : `${edge.services.slice(0, LABEL_SERVICES).join('; ')} +${edge.services.length - LABEL_SERVICES}`;
}

/** Beyond this many edges their labels would cover each other: the picture keeps them in the edges' titles. */
const MAX_LABELLED_EDGES = 60;

const STYLE = `
.group{fill:#f5f7fa;stroke:#c9d1dc}.group-label{font:600 14px sans-serif;fill:#3d4b5c}
.node rect{fill:#fff;stroke:#4a6785;stroke-width:1.5;rx:6}.node.network rect,.node.name rect{fill:#fdf6e3;stroke:#a08a4a}
.node-label{font:600 12px sans-serif;fill:#1b2733}.node-caption{font:11px sans-serif;fill:#5d6b7a}
.edge{fill:none;stroke:#6b8bb0;stroke-width:1.3}.edge.deny{stroke:#c0392b;stroke-dasharray:5 3}.edge.mixed{stroke:#d68910}
.edge-label{font:10px sans-serif;fill:#34495e;paint-order:stroke;stroke:#fff;stroke-width:3px}`;

export function renderSvg(graph: RoleGraph): string {
  const layout = layoutGraph(graph);
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const labels = graph.edges.length <= MAX_LABELLED_EDGES;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" role="img">`,
    `<title>${escapeXml(`Palisade role map: ${graph.nodes.length} nodes, ${graph.edges.length} edges, ${graph.hostCount} hosts`)}</title>`,
    `<style>${STYLE}</style>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6b8bb0"/></marker></defs>',
  ];
  for (const g of layout.groups) {
    out.push(`<g><rect class="group" x="${g.x}" y="${g.y}" width="${g.width}" height="${g.height}" rx="10"/>`);
    out.push(`<text class="group-label" x="${g.x + 14}" y="${g.y + 22}">${escapeXml(shorten(g.label, 40))}</text></g>`);
  }
  for (const e of graph.edges) {
    const line = layout.edges[e.id];
    if (line === undefined) continue;
    out.push(`<g class="edge-group"><path class="edge ${e.verdict}" d="${line.path}" marker-end="url(#arrow)"><title>${escapeXml(edgeTitle(e, nodes))}</title></path>`);
    if (labels) out.push(`<text class="edge-label" x="${line.labelX}" y="${line.labelY}" text-anchor="middle">${escapeXml(shorten(edgeLabel(e), 40))}</text>`);
    out.push('</g>');
  }
  for (const n of graph.nodes) {
    const box = layout.nodes[n.id];
    if (box === undefined) continue;
    out.push(`<g class="node ${n.kind}"><title>${escapeXml(n.environment === null ? n.label : `${n.environment} / ${n.label}`)}</title>`);
    out.push(`<rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" rx="6"/>`);
    out.push(`<text class="node-label" x="${box.x + 10}" y="${box.y + 18}">${escapeXml(shorten(n.label, 24))}</text>`);
    out.push(`<text class="node-caption" x="${box.x + 10}" y="${box.y + NODE_HEIGHT - 10}">${escapeXml(nodeCaption(n))}</text></g>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** A DOT ID: always quoted, backslashes and quotes escaped, line breaks as \n, other controls dropped. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n').replace(/[\u0000-\u001f\u007f]/g, '')}"`;
}

export function renderDot(graph: RoleGraph): string {
  const out = ['digraph palisade {', '  rankdir=LR;', '  node [shape=box, style="rounded", fontname="sans-serif"];', '  edge [fontname="sans-serif", fontsize=10];'];
  const node = (n: GraphNode, indent: string): string => `${indent}${n.id} [label=${dotString(`${n.label}\n${nodeCaption(n)}`)}${n.environment === null ? ', style="rounded,dashed"' : ''}];`;
  graph.environments.forEach((env, i) => {
    out.push(`  subgraph cluster_${i} {`, `    label=${dotString(env)};`);
    for (const n of graph.nodes) if (n.environment === env) out.push(node(n, '    '));
    out.push('  }');
  });
  for (const n of graph.nodes) if (n.environment === null) out.push(node(n, '  '));
  for (const e of graph.edges) {
    const style = e.verdict === 'deny' ? ', color="red", style="dashed"' : e.verdict === 'mixed' ? ', color="orange"' : '';
    out.push(`  ${e.from} -> ${e.to} [label=${dotString(e.merged === undefined ? e.services.join('\n') : edgeLabel(e))}${style}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
