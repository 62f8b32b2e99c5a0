/** `palisade lab up|down|apply|probe|audit|logs|demo`: the lab's commands (declared in src/cli/register-lab.ts). */
import type { ConfigOverrides } from '../../app/config.ts';
import { parseSocketPort } from '../../app/port-spec.ts';
import { loadInventoryOf, loadWorkspace, type Workspace } from '../../app/workspace.ts';
import { UsageError } from '../../diagnostics.ts';
import { EXIT } from '../../exit-codes.ts';
import type { BackendName } from '../../kernel/backend.ts';
import { checkSameHosts, labApply } from '../../lab/apply.ts';
import { formatPublished, labContainerAdd, labPublishedProbe } from '../../lab/containers.ts';
import { labAudit } from '../../lab/audit.ts';
import { readCounters } from '../../lab/counters.ts';
import { NEEDS_ROOT, labDemo } from '../../lab/demo.ts';
import { withLabLock } from '../../lab/lock.ts';
import { formatCounters, formatReport } from '../../lab/matrix.ts';
import type { PortSpec as ProbePort } from '../../lab/probe-plan.ts';
import { labProbe, type ProbeReport } from '../../lab/probe.ts';
import { formatProbeHtml } from '../../lab/probe-html.ts';
import { roleMap } from '../../app/graph.ts';
import { LabError, checkLabName, readState, type LabState } from '../../lab/state.ts';
import { labDown, labUp } from '../../lab/topology.ts';
import { toJson, type Output } from '../output.ts';
import { progressSink } from '../terminal.ts';

export interface LabOptions extends ConfigOverrides {
  lab: string;
  backend?: BackendName;
  format?: 'text' | 'json' | 'html';
  port?: string[];
  logGroup?: string;
  host?: string;
  runtime?: 'docker' | 'nodeport';
  publish?: string[];
}

export type LabSubcommand = 'up' | 'down' | 'apply' | 'probe' | 'audit' | 'logs' | 'container' | 'published';

/** `--publish 5432`, `8080:80`, `5353:53/udp`: the host's port, the container's, the protocol (tcp by default). */
function publishedPort(text: string): { protocol: 'tcp' | 'udp'; host: number; container: number } {
  const match = /^(\d{1,5})(?::(\d{1,5}))?(?:\/(tcp|udp))?$/.exec(text);
  const host = Number(match?.[1]);
  const container = Number(match?.[2] ?? match?.[1]);
  if (match === null || host < 1 || host > 65535 || container < 1 || container > 65535) {
    throw new UsageError(`--publish ${text}: expected HOST_PORT[:CONTAINER_PORT][/tcp|/udp], e.g. 5432 or 8080:80`);
  }
  return { protocol: (match[3] as 'tcp' | 'udp' | undefined) ?? 'tcp', host, container };
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** `--port 9999`, `9999/tcp`, `domain/udp`: one more port to probe on every pair. */
function probePort(text: string): ProbePort {
  return { ...parseSocketPort(text, `--port ${text}`), sourcePort: null, user: null };
}

/** An NFLOG group: 0-65535. */
function parseLogGroup(text: string): number {
  const group = Number(text);
  if (!/^\d{1,5}$/.test(text) || group > 65535) throw new UsageError(`--log-group ${text}: expected an NFLOG group from 0 to 65535`);
  return group;
}

async function upState(lab: string): Promise<LabState> {
  const state = await readState(checkLabName(lab));
  if (state === null) throw new LabError(`lab ${lab} is not up: run \`palisade lab up --lab ${lab}\` first`);
  return state;
}

function requireRoot(): void {
  if (!isRoot()) throw new LabError(`${NEEDS_ROOT}; run it as root (palisade lab demo shows the plan without root)`, { kind: 'lab' });
}

function printReport(output: Output, report: ProbeReport, format: LabOptions['format'], ws?: Workspace): number {
  if (format === 'html' && ws !== undefined) output.out(formatProbeHtml(report, roleMap(ws)));
  else output.out(format === 'json' ? toJson(report) : formatReport(report.hosts, report.results, report.summary, report.notes, report.counters));
  return report.summary.mismatches > 0 ? EXIT.attention : EXIT.ok;
}

/** A lab command that needs root; its failures (OperationError) reach main.ts: a message and exit 1. */
export async function labCommand(subcommand: LabSubcommand, opts: LabOptions, output: Output): Promise<number> {
  requireRoot();
  /* `lab up` and `lab probe` on a terminal: a progress line, cleared before each log line. */
  const bar = progressSink(subcommand === 'up' ? 'making namespaces' : 'probing');
  const log = (line: string): void => {
    bar.end();
    output.err(line);
  };
  switch (subcommand) {
    case 'up': {
      const inventory = await loadInventoryOf(opts);
      await withLabLock(opts.lab, () => labUp(opts.lab, inventory.hosts, inventory.source, log, bar.tick)).finally(() => bar.end());
      return EXIT.ok;
    }
    case 'down':
      if (!(await withLabLock(opts.lab, () => labDown(opts.lab, log), { removed: true }))) log(`lab ${opts.lab} is not up: nothing to remove`);
      return EXIT.ok;
    case 'apply': {
      const ws = await loadWorkspace(opts);
      await withLabLock(opts.lab, async () => labApply(await upState(opts.lab), ws, opts.backend ?? 'nft', log));
      return EXIT.ok;
    }
    case 'probe': {
      const extraPorts = (opts.port ?? []).map(probePort);
      const ws = await loadWorkspace(opts);
      const report = await withLabLock(opts.lab, async () => labProbe(await upState(opts.lab), ws, { backend: opts.backend ?? null, extraPorts, onProgress: bar.tick }, log)).finally(() => bar.end());
      return printReport(output, report, opts.format, ws);
    }
    case 'audit': {
      const group = parseLogGroup(opts.logGroup ?? '7');
      await withLabLock(opts.lab, async () => labAudit(await upState(opts.lab), group, log));
      return EXIT.ok;
    }
    case 'container': {
      if (opts.host === undefined) throw new UsageError('lab container needs --host HOST');
      const ports = (opts.publish ?? []).map(publishedPort);
      const host = opts.host;
      await withLabLock(opts.lab, async () => labContainerAdd(await upState(opts.lab), host, opts.runtime ?? 'docker', ports, log));
      return EXIT.ok;
    }
    case 'published': {
      const ws = await loadWorkspace(opts);
      const results = await withLabLock(opts.lab, async () => {
        const state = await upState(opts.lab);
        checkSameHosts(state, ws.inventory.hosts);
        return labPublishedProbe(state, ws, 1000);
      });
      output.out(opts.format === 'json' ? toJson({ lab: opts.lab, results }) : formatPublished(results));
      return results.some((r) => r.mismatch) ? EXIT.attention : EXIT.ok;
    }
    case 'logs': {
      const state = await upState(opts.lab);
      if (state.backend === null) throw new LabError(`lab ${opts.lab} has no ruleset loaded: run \`palisade lab apply\` first`);
      const counters = await readCounters(state.hosts, state.backend);
      output.out(opts.format === 'json' ? toJson({ lab: state.lab, backend: state.backend, counters }) : formatCounters(counters));
      return EXIT.ok;
    }
  }
}

/** `lab demo`: up, apply, probe, down as root; the plan of every host without root. */
export async function labDemoCommand(opts: LabOptions, output: Output): Promise<number> {
  const log = (line: string): void => output.err(line);
  if (!isRoot()) {
    const outcome = await labDemo(opts, checkLabName(opts.lab), opts.backend ?? 'nft', false, log);
    if (outcome.kind === 'plan') output.out(outcome.text);
    return EXIT.ok;
  }
  const outcome = await withLabLock(opts.lab, () => labDemo(opts, opts.lab, opts.backend ?? 'nft', true, log), { removed: true });
  return outcome.kind === 'probed' ? printReport(output, outcome.report, opts.format) : EXIT.ok;
}
