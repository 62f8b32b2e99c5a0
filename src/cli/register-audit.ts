/** The audit commands: `flows`, `observe`, `impact`, `suggest`, `trace` (observe before enforcing, explain drops, suggest rules). */
import { Command, Option } from 'commander';
import type { FlowsOptions } from './commands/flows.ts';
import type { ImpactOptions } from './commands/impact.ts';
import type { ObserveOptions } from './commands/observe.ts';
import type { SuggestOptions } from './commands/suggest.ts';
import type { TraceOptions } from './commands/trace.ts';
import { examples, formatOption, sourceOptions } from './options.ts';
import type { Output } from './output.ts';

/** Host names beside addresses come from this inventory (default: palisade.yaml's, when there is one). */
const namingOptions = (command: Command): Command =>
  command
    .option('-c, --config <file>', 'palisade.yaml naming the inventory whose host names are shown beside addresses')
    .option('-i, --inventory <source>', 'inventory whose host names are shown beside addresses: FILE.yaml|json, exec:COMMAND or etcd://');

export function registerAuditCommands(program: Command, output: Output, setExit: (code: number) => void): void {
  examples(
    namingOptions(
      program
        .command('flows')
        .description("flows in palisade's log records on this host (audit mode's NFLOG records via ulogd2 JSON; --kernel: DROP_PAL_* lines of the kernel log), busiest first, host names beside addresses")
        .argument('[files...]', 'ulogd2 JSON files or saved kernel log lines (default: /var/log/ulog/palisade-audit.json)')
        .option('-k, --kernel', 'also read the kernel log (journalctl -k)')
        .option('-l, --lab <name>', "the audit records of every host of a lab (palisade lab audit); host names from the lab's inventory")
        .option('-n, --top <n>', 'show the N busiest flows', '50')
        .addOption(formatOption()),
    ),
    ['palisade flows', 'palisade flows --format json > flows.json', 'palisade flows --kernel --top 10', 'palisade flows /var/log/ulog/palisade-audit.json.1', 'palisade flows --lab shop --format json > seen.json'],
  ).action(async (files: string[], opts: FlowsOptions) => setExit(await (await import('./commands/flows.ts')).flowsCommand(files, opts, output)));

  examples(
    namingOptions(
      program
        .command('observe')
        .description('snapshot of current connections (conntrack) and listening sockets (ss) as flows, before any rule is written (root); host names beside addresses')
        .option('-o, --out <file>', 'write the flow file (JSON) here')
        .addOption(new Option('--netns <name>', 'observe inside this network namespace').hideHelp())
        .addOption(formatOption()),
    ),
    ['palisade observe', 'palisade observe --out /tmp/$(hostname).flows.json', 'palisade observe --format json | jq .listening'],
  ).action(async (opts: ObserveOptions) => setExit(await (await import('./commands/observe.ts')).observeCommand(opts, output)));

  examples(
    sourceOptions(
      program
        .command('impact')
        .description('observed flows the policy would cut, judged on both ends as if every host enforced, grouped by roles and port; exit 3 when any would be cut')
        .requiredOption('--flows <files...>', 'flow files (palisade observe --out, palisade flows --format json)'),
    ).addOption(formatOption()),
    ['palisade impact --policy new-policy.yaml --flows observed/*.json', 'palisade impact --flows flows.json --format json | jq .groups'],
  ).action(async (opts: ImpactOptions) => setExit(await (await import('./commands/impact.ts')).impactCommand(opts, output)));

  examples(
    sourceOptions(
      program
        .command('suggest')
        .description('policy rules for the observed flows the policy cuts, generalised to roles and tags only where the observed hosts cover them')
        .requiredOption('--flows <files...>', 'flow files (palisade observe --out, palisade flows --format json)')
        .option('-o, --out <file>', 'write the suggested policy file here'),
    ),
    ['palisade suggest --flows flows.json > suggested.yaml', 'palisade suggest --flows observed/*.json --policy policy.yaml --out roles/observed.yaml && palisade impact --flows observed/*.json'],
  ).action(async (opts: SuggestOptions) => setExit(await (await import('./commands/suggest.ts')).suggestCommand(opts, output)));

  examples(
    program
      .command('trace')
      .description('send one real packet and show, with nftables tracing, which chain and rule decided it on each end (root; nft backend)')
      .argument('<src>', 'source: a lab host name (--lab) or an IP address (--netns)')
      .argument('<dst>', 'destination: a lab host name (--lab) or an IP address (--netns)')
      .argument('<port>', 'PORT[/PROTO]: 443, 443/tcp, 53/udp')
      .option('-l, --lab <name>', 'a lab (palisade lab up): hosts are inventory names, each in its namespace')
      .option('--netns <name>', 'the source namespace (without --lab)')
      .option('--dst-netns <name>', 'the destination namespace, traced too (without --lab)')
      .option('-u, --user <user>', "send as this user of the source host (--lab), or this uid (outbound rules are per user)")
      .option('--timeout <ms>', 'how long to wait for the packet', '1500'),
    ['palisade trace web-shop-1 db-1 5432 --lab shop', 'palisade trace lb-1 web-shop-1 80 --lab shop --user haproxy', 'palisade trace 10.0.0.1 10.0.0.2 9999/tcp --netns ns-a --dst-netns ns-b'],
  ).action(async (src: string, dst: string, port: string, opts: TraceOptions) => setExit(await (await import('./commands/trace.ts')).traceCommand(src, dst, port, opts, output)));
}
