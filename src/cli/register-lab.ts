/** The `palisade lab ...` commands: a network-namespace lab that loads every host's ruleset and probes it for real. */
import type { Command } from 'commander';
import type { BackendName } from '../kernel/backend.ts';
import { labApply } from '../lab/apply.ts';
import { labAudit } from '../lab/audit.ts';
import { readCounters } from '../lab/counters.ts';
import { NEEDS_ROOT, labDemo } from '../lab/demo.ts';
import { formatCounters, formatReport } from '../lab/matrix.ts';
import { labProbe, type ProbeReport } from '../lab/probe.ts';
import { EXIT } from '../exit-codes.ts';
import type { PortSpec as ProbePort } from '../lab/probe-plan.ts';
import { parseSocketPort } from '../app/port-spec.ts';
import { LabError, checkLabName, readState, type LabState } from '../lab/state.ts';
import { labDown, labUp } from '../lab/topology.ts';
import { withLabLock } from '../lab/lock.ts';
import type { ConfigOverrides } from '../app/config.ts';
import { backendOption, examples, formatOption, sourceOptions } from './options.ts';
import { toJson, type Output } from './output.ts';
import { UsageError } from '../diagnostics.ts';
import { loadInventoryOf, loadWorkspace } from '../app/workspace.ts';

const DEFAULT_LAB = 'lab';
const isRoot = (): boolean => process.getuid?.() === 0;

interface LabOptions extends ConfigOverrides {
  lab: string;
  backend?: BackendName;
  format?: 'text' | 'json';
  port?: string[];
  logGroup?: string;
}

const labOption = (command: Command, fallback = DEFAULT_LAB): Command =>
  command.option('-l, --lab <name>', 'lab name (a-z, 0-9, -; up to 12): namespaces are pal-<lab>-<n>', fallback);

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

/** Runs a lab action, which needs root; its failures (OperationError) reach main.ts: a message and exit 1. */
function labAction<A extends unknown[]>(setExit: (code: number) => void, action: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    if (!isRoot()) throw new LabError(`${NEEDS_ROOT}; run it as root (palisade lab demo shows the plan without root)`, { kind: 'lab' });
    setExit(await action(...args));
  };
}

function printReport(output: Output, report: ProbeReport, format: 'text' | 'json' | undefined): number {
  output.out(format === 'json' ? toJson(report) : formatReport(report.hosts, report.results, report.summary, report.notes, report.counters));
  return report.summary.mismatches > 0 ? EXIT.attention : EXIT.ok;
}

export function registerLabCommands(program: Command, output: Output, setExit: (code: number) => void): void {
  const log = (line: string): void => output.err(line);
  const lab = examples(
    program
      .command('lab')
      .description('a network-namespace lab: every inventory host in its own namespace, its ruleset loaded, every flow probed for real (root)'),
    ['palisade lab demo', 'palisade lab up && palisade lab apply --backend iptables && palisade lab probe; palisade lab down'],
  );

  examples(
    labOption(
      lab
        .command('up')
        .description('create one network namespace per inventory host, bridged, with the hosts\' addresses and local users')
        .option('-c, --config <file>', 'palisade.yaml to read (default: ./palisade.yaml)')
        .option('-i, --inventory <source>', 'inventory: FILE.yaml|json or exec:COMMAND'),
    ),
    ['palisade lab up', 'palisade lab up --inventory examples/shop/inventory.yaml --lab shop'],
  ).action(
    labAction(setExit, async (opts: LabOptions) => {
      const inventory = await loadInventoryOf(opts);
      await withLabLock(opts.lab, () => labUp(opts.lab, inventory.hosts, inventory.source, log));
      return 0;
    }),
  );

  examples(labOption(lab.command('down').description('remove everything the lab created (namespaces, bridge, users), also after a crash; idempotent')), [
    'palisade lab down',
    'palisade lab down --lab shop',
  ]).action(
    labAction(setExit, async (opts: LabOptions) => {
      if (!(await withLabLock(opts.lab, () => labDown(opts.lab, log)))) log(`lab ${opts.lab} is not up: nothing to remove`);
      return 0;
    }),
  );

  examples(
    labOption(sourceOptions(lab.command('apply').description("compile every host's ruleset and load it into the host's namespace"))).addOption(backendOption()),
    ['palisade lab apply', 'palisade lab apply --backend iptables', 'palisade lab apply --policy policy.yaml roles/ --lab shop'],
  ).action(
    labAction(setExit, async (opts: LabOptions) => {
      const ws = await loadWorkspace(opts);
      await withLabLock(opts.lab, async () => labApply(await upState(opts.lab), ws, opts.backend ?? 'nft', log));
      return 0;
    }),
  );

  examples(
    labOption(
      sourceOptions(
        lab
          .command('probe')
          .description('real connections between every pair of hosts on the ports the rules name (and a few they do not), compared with explain; exit 3 on any difference')
          .option('--port <ports...>', 'more ports to probe on every pair: PORT, PORT/tcp, PORT/udp (e.g. ports raw rules open)'),
      ),
    )
      .addOption(backendOption(null))
      .addOption(formatOption()),
    ['palisade lab probe', 'palisade lab probe --backend iptables', 'palisade lab probe --format json | jq .summary', 'palisade lab probe --port 4369 25672/tcp'],
  ).action(
    labAction(setExit, async (opts: LabOptions) => {
      const extraPorts = (opts.port ?? []).map(probePort);
      const ws = await loadWorkspace(opts);
      const report = await withLabLock(opts.lab, async () => labProbe(await upState(opts.lab), ws, { backend: opts.backend ?? null, extraPorts }, log));
      return printReport(output, report, opts.format);
    }),
  );

  examples(
    labOption(
      lab
        .command('audit')
        .description("collect audit mode's records: ulogd2 with the shipped configuration (examples/audit/ulogd.conf) in every host's namespace, until lab down")
        .option('-g, --log-group <n>', 'the NFLOG group audit mode logs to (settings.audit.log_group)', '7'),
    ),
    ['palisade lab audit && palisade flows --lab lab', 'palisade lab audit --lab shop; palisade flows --lab shop --format json > seen.json; palisade suggest --flows seen.json'],
  ).action(
    labAction(setExit, async (opts: LabOptions) => {
      const group = parseLogGroup(opts.logGroup ?? '7');
      await withLabLock(opts.lab, async () => labAudit(await upState(opts.lab), group, log));
      return 0;
    }),
  );

  examples(labOption(lab.command('logs').description("drop and log counters of palisade's chains in every lab host")).addOption(formatOption()), [
    'palisade lab logs',
    'palisade lab logs --format json',
  ]).action(
    labAction(setExit, async (opts: LabOptions) => {
      const state = await upState(opts.lab);
      if (state.backend === null) throw new LabError(`lab ${opts.lab} has no ruleset loaded: run \`palisade lab apply\` first`);
      const counters = await readCounters(state.hosts, state.backend);
      output.out(opts.format === 'json' ? toJson({ lab: state.lab, backend: state.backend, counters }) : formatCounters(counters));
      return 0;
    }),
  );

  examples(
    labOption(sourceOptions(lab.command('demo').description('lab up, apply, probe, print the matrix, lab down (always); without root, print the plan instead')), 'demo')
      .addOption(backendOption())
      .addOption(formatOption()),
    ['palisade lab demo', 'sudo npx palisade lab demo --backend iptables'],
  ).action(async (opts: LabOptions) => {
    if (!isRoot()) {
      const outcome = await labDemo(opts, checkLabName(opts.lab), opts.backend ?? 'nft', false, log);
      if (outcome.kind === 'plan') output.out(outcome.text);
      return setExit(0);
    }
    await labAction(setExit, async () => {
      const outcome = await withLabLock(opts.lab, () => labDemo(opts, opts.lab, opts.backend ?? 'nft', true, log));
      return outcome.kind === 'probed' ? printReport(output, outcome.report, opts.format) : 0;
    })();
  });
}
