/** The commands that read policy and inventory and change nothing: check, compile, plan, explain, graph. */
import { Command, Option } from 'commander';
import type { CheckOptions } from './commands/check.ts';
import type { CompileOptions } from './commands/compile.ts';
import type { ExplainOptions } from './commands/explain.ts';
import type { GraphOptions } from './commands/graph.ts';
import type { PlanOptions } from './commands/plan.ts';
import { backendOption, examples, formatOption, sourceOptions } from './options.ts';
import type { Output } from './output.ts';

export function registerCompileCommands(program: Command, output: Output, setExit: (code: number) => void): void {
  examples(
    sourceOptions(
      program
        .command('check')
        .description('validate policy and inventory; every error with file:line:col and rule name')
        .option('--strict', 'warnings are errors too (exit 1): for CI')
        .addOption(formatOption(['text', 'json']))
        .addOption(backendOption()),
    ),
    ['palisade check', 'palisade check --strict --format json', 'palisade check --policy policy.yaml roles/ --inventory hosts.yaml', "palisade check --inventory 'exec:knife search node \"*:*\" -F json'"],
  ).action(async (opts: CheckOptions) => setExit(await (await import('./commands/check.ts')).checkCommand(opts, output)));

  examples(
    sourceOptions(
      program
        .command('compile')
        .description("print one host's ruleset")
        .requiredOption('-H, --host <name>', 'inventory host to compile for')
        .addOption(formatOption(['nft', 'iptables', 'json']))
        .option('-o, --out <dir>', 'write files instead (nft: ruleset.nft; iptables: ipset.restore, rules.v4, rules.v6)'),
    ),
    ['palisade compile --host web-1', 'palisade compile --host web-1 --format iptables --out /tmp/web-1', 'palisade compile --host web-1 --format json | jq .sets'],
  ).action(async (opts: CompileOptions) => setExit(await (await import('./commands/compile.ts')).compileCommand(opts, output)));

  examples(
    sourceOptions(
      program
        .command('plan')
        .description('what every host gets (rules, sets, elements), and what changes against an earlier version')
        .option('--against <path>', 'earlier palisade.yaml, or a directory holding one, to compare with')
        .option('-v, --verbose', 'list every added/removed rule and element')
        .addOption(formatOption()),
    ),
    ['palisade plan', 'palisade plan --against ../last-release --verbose', 'palisade plan --format json'],
  ).action(async (opts: PlanOptions) => setExit(await (await import('./commands/plan.ts')).planCommand(opts, output)));

  examples(
    sourceOptions(
      program
        .command('explain')
        .description('whether a flow is allowed, and by which rule, on both ends')
        .argument('<src>', 'source: inventory host name or IP address')
        .argument('<dst>', 'destination: inventory host name or IP address')
        .argument('<port>', 'PORT[/PROTO] (443, 443/tcp, domain/udp) or a protocol without ports (icmp, icmpv6, vrrp, ospf)')
        .option('-u, --user <user>', 'local user owning the socket on the source host (outbound rules are per user)')
        .option('--service <unit>', 'systemd unit owning the socket on the source host (rules with service:)')
        .option('--sport <port>', 'source port of the flow')
        .option('--dnat <address:port>', 'the destination publishes PORT by DNAT to this container (Docker -p, a NodePort): its forward chain decides')
        .addOption(new Option('--family <n>', 'address family to use when both ends have both').choices(['4', '6']))
        .option('--exit-code', 'exit 3 when the flow is denied (0 when allowed)')
        .addOption(formatOption()),
    ),
    ['palisade explain web-1 mongodb-1 27017', 'palisade explain web-1 mongodb-1 27017/tcp --user www-data', 'palisade explain 192.0.2.7 lb-1 443 --family 4', 'palisade explain web-1 db-1 5432 --exit-code || alert', 'palisade explain api-1 docker-1 5432 --dnat 172.17.0.2:5432'],
  ).action(async (src: string, dst: string, port: string, opts: ExplainOptions) =>
    setExit(await (await import('./commands/explain.ts')).explainCommand(src, dst, port, opts, output)),
  );

  examples(
    sourceOptions(
      program
        .command('graph')
        .description('the role map: which roles may talk to which, on what ports, as the policy says (svg, dot or json)')
        .addOption(formatOption(['svg', 'dot', 'json']))
        .option('-e, --environment <env>', 'only this environment (and the networks it talks to)')
        .option('--search <text>', 'only roles, hosts or networks whose name contains the text, and their neighbours')
        .option('--port <port>', 'only rules that let this port through: 443, 53/udp, icmp')
        .option('--expand <roles...>', 'show these roles as their hosts: ROLE or ENVIRONMENT/ROLE')
        .option('--open <environments...>', 'on a map of more than 60 roles (each environment folded into one node): show these environments as their roles')
        .option('--all-roles', 'never fold environments, however large the map')
        .option('-o, --out <file>', 'write the picture to this file instead of stdout'),
    ),
    ['palisade graph --out map.svg', 'palisade graph --format dot | dot -Tpng > map.png', 'palisade graph --environment production --port 443 --format json'],
  ).action(async (opts: GraphOptions) => setExit(await (await import('./commands/graph.ts')).graphCommand(opts, output)));
}
