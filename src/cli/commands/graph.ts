import { writeUserFile } from '../../app/files.ts';
import { roleMap, type MapRequest } from '../../app/graph.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { loadWorkspace } from '../../app/workspace.ts';
import { renderDot, renderSvg } from '../../graph/render.ts';
import { toJson, type Output } from '../output.ts';

export interface GraphOptions extends ConfigOverrides, MapRequest {
  format: 'svg' | 'dot' | 'json';
  out?: string;
}

export async function graphCommand(options: GraphOptions, output: Output): Promise<number> {
  const ws = await loadWorkspace(options);
  const graph = roleMap(ws, options);
  const text = options.format === 'json' ? toJson(graph) : options.format === 'dot' ? renderDot(graph) : renderSvg(graph);
  if (options.out === undefined) output.out(text);
  else await writeUserFile(options.out, text);
  return 0;
}
