/** The fleet commands (DESIGN.md "Fleet mode"): agent, push, hosts put/rm, fleet status, fleet init-auth, fleet add-agent. */
import { Command, Option } from 'commander';
import {
  DEFAULT_CONFIRM_WINDOW_S,
  DEFAULT_DRIFT_INTERVAL_MS,
  DEFAULT_ETCD_PEER_PORT,
  DEFAULT_FACTS_FILE,
  DEFAULT_COUNTERS_INTERVAL_MS,
  DEFAULT_FLOWS_INTERVAL_MS,
  DEFAULT_GRACE_SECONDS,
  DEFAULT_MAX_ADDRESSES,
  DEFAULT_MAX_MS,
  DEFAULT_METRICS_PORT,
  DEFAULT_QUIET_MS,
  DEFAULT_TTL_SECONDS,
  DEFAULT_DROP_FACTOR,
  DROP_BASELINE_MS,
  MIN_DROP_RATE,
} from '../defaults.ts';
import type { AgentOptions } from './commands/agent.ts';
import type { AddAgentOptions, InitAuthOptions } from './commands/fleet-auth.ts';
import type { FleetOptions } from '../app/fleet.ts';
import type { FleetFlowsOptions } from './commands/fleet-flows.ts';
import type { FleetStatusOptions } from './commands/fleet-status.ts';
import type { HostsPutOptions, HostsSyncOptions } from './commands/hosts.ts';
import type { PushOptions } from '../app/push.ts';
import { backendOption, duration, examples, formatOption, hostOptions, nonNegative, positiveInt, refusedSecret, sourceOptions } from './options.ts';
import type { Output } from './output.ts';

const URL = 'etcd://10.0.0.5:2379,10.0.0.6:2379,10.0.0.7:2379/palisade';


/** Credentials and TLS for etcd (flags, else PALISADE_ETCD_* variables). */
export function etcdOptions(command: Command): Command {
  return command
    .option('--user <name>', 'etcd user (else $PALISADE_ETCD_USER)')
    .option('--password-file <file>', "file holding the etcd user's password (else $PALISADE_ETCD_PASSWORD_FILE)")
    .option('--cacert <file>', 'CA certificate of the etcd servers, PEM: use TLS (else $PALISADE_ETCD_CACERT)')
    .option('--cert <file>', 'client certificate for etcd, PEM (else $PALISADE_ETCD_CERT)')
    .option('--key <file>', 'client key for etcd, PEM (else $PALISADE_ETCD_KEY)');
}

function fleetSource(command: Command): Command {
  return etcdOptions(command.option('-i, --inventory <url>', 'the fleet: etcd://HOST:PORT[,HOST:PORT...]/PREFIX (else palisade.yaml)').option('-c, --config <file>', 'palisade.yaml to read'));
}

export function registerFleetCommands(program: Command, output: Output, setExit: (code: number) => void): void {
  examples(
    etcdOptions(
      hostOptions(
        sourceOptions(
          program
            .command('agent')
            .description("keep this host's ruleset current as the inventory and policy change (etcd fleet, or watched files)")
            .requiredOption('-H, --host <name>', 'the host this machine is')
            .addOption(backendOption())
            .option('--facts <file>', `declared facts: lan, users (default: ${DEFAULT_FACTS_FILE} if present); roles and the rest are the registration's`)
            .option('--lan <interface>', 'default interface (else the default route)')
            .option('--ttl <seconds>', 'liveness lease TTL: fleet status reports the agent down after it', positiveInt, DEFAULT_TTL_SECONDS)
            .option('--grace <seconds>', 'membership lease TTL: peers keep this host that long after its agent stopped', positiveInt, DEFAULT_GRACE_SECONDS)
            .option('--etcd-peer-port <port>', 'peer port of the etcd members (kept open between members that are hosts of the fleet)', positiveInt, DEFAULT_ETCD_PEER_PORT)
            .option('--confirm-window <seconds>', 'after a load that changes rules, roll back unless etcd is reachable again within this long', positiveInt, DEFAULT_CONFIRM_WINDOW_S)
            .option('--drift-interval <seconds>', 'how often to compare the kernel with the applied ruleset and repair drift', positiveInt, DEFAULT_DRIFT_INTERVAL_MS / 1000)
            .addOption(new Option('--no-etcd-failsafe', 'tests only: no automatic failsafe for the etcd traffic').hideHelp())
            .option('--leave-on-stop', 'on SIGTERM/SIGINT, leave the fleet at once (VMs being terminated) instead of staying a member for the grace period')
            .option('--debounce <ms>', 'apply once changes stop for this long', positiveInt, DEFAULT_QUIET_MS)
            .option('--debounce-max <ms>', 'apply at the latest this long after the first change of a burst', positiveInt, DEFAULT_MAX_MS)
            .option('--flows-from <files...>', "fleet mode: publish this host's audited or denied flows from these logs (ulogd2 JSON) under flows/<name>")
            .option('--flows-interval <seconds>', 'how often to publish them', positiveInt, DEFAULT_FLOWS_INTERVAL_MS / 1000)
            .option('--counters-interval <seconds>', 'how often to read the drop and reject counters, publishing them under counters/<name> when they changed', positiveInt, DEFAULT_COUNTERS_INTERVAL_MS / 1000)
            .option('--metrics <host:port>', `serve Prometheus metrics at http://HOST:PORT/metrics (e.g. 127.0.0.1:${DEFAULT_METRICS_PORT}; default: off)`)
            .addOption(new Option('--log-level <level>', 'log level (pino JSON lines on stderr)').choices(['debug', 'info', 'warn', 'error']).default('info')),
        ),
      ),
    ),
    [
      `palisade agent --host web-1 --inventory ${URL}`,
      'palisade agent --host web-1 --inventory etcd://etcd:2379/palisade --user web-1 --password-file /etc/palisade/etcd.pass --cacert /etc/palisade/etcd-ca.pem',
      'palisade agent --host web-1 --inventory etcd://etcd:2379 --grace 600 --leave-on-stop',
      `palisade agent --host web-1 --inventory ${URL} --flows-from /var/log/ulog/palisade-audit.json   # audit mode`,
      'palisade agent --host web-1 --inventory hosts.yaml --policy policy.yaml roles/   # files: applies on every change',
    ],
  ).action(async (opts: AgentOptions) => setExit(await (await import('./commands/agent.ts')).agentCommand(opts, output)));

  examples(
    fleetSource(
      program
        .command('push')
        .description("validate the policy (parse, compile every host of the fleet, guard SSH from the admin networks and the agents' etcd traffic) and write it to the fleet; invalid or unsafe: nothing written, exit 1")
        .option('-p, --policy <files...>', 'policy files or directories (else palisade.yaml)')
        .option('--admin-network <cidrs...>', "where admins SSH from: every host must accept SSH from there (default: where the policy's SSH failsafe admits from)")
        .option('--force', 'push even when a guard fails')
        .option('--canary <spec>', "roll out to canaries first: N% of the agents' hosts, or a query such as 'roles:web AND environment:staging'")
        .option('--bake <duration>', 'how long the canaries must stay healthy before every host gets the policy (default 60s)', duration)
        .option(
          '--drop-factor <x>',
          `drop-rate gate: roll back when a canary drops more than X times its rate before the push, + ${MIN_DROP_RATE}/s, during the bake (0: no gate; the canaries measure for ${DROP_BASELINE_MS / 1000} s first)`,
          nonNegative,
          DEFAULT_DROP_FACTOR,
        )
        .option('--dns <file>', 'static name table, consulted before DNS while validating')
        .option('--no-resolve', 'do not ask the system resolver while validating'),
    ),
    [
      `palisade push --policy policy.yaml roles/ --inventory ${URL}`,
      'palisade push --user admin --password-file admin.pass',
      "palisade push --canary 10% --bake 60s",
      "palisade push --canary 'roles:web AND environment:staging' --bake 2m",
    ],
  ).action(async (opts: PushOptions) => setExit(await (await import('./commands/push.ts')).pushCommand(opts, output)));

  const hosts = program.command('hosts').description('static hosts of the fleet (appliances, external services): no agent, no lease');
  examples(
    fleetSource(
      hosts
        .command('put')
        .description('register hosts from an inventory file, or one host from flags; validated like an inventory')
        .argument('[file]', 'inventory file (YAML or JSON, `hosts:` list)')
        .option('--name <name>', 'host name')
        .option('--address <addresses...>', 'its addresses (single hosts)')
        .option('--environment <name>', 'environment')
        .option('--role <roles...>', 'roles')
        .option('--tag <tags...>', 'tags'),
    ),
    [`palisade hosts put appliances.yaml --inventory ${URL}`, 'palisade hosts put --name backup-nas --address 10.0.9.4 --role backup --environment production'],
  ).action(async (file: string | undefined, opts: HostsPutOptions) => setExit(await (await import('./commands/hosts.ts')).hostsPutCommand(file, opts, output)));
  examples(fleetSource(hosts.command('rm').description('remove a host key').argument('<name>', 'host name')), [`palisade hosts rm backup-nas --inventory ${URL}`]).action(
    async (name: string, opts: FleetOptions) => setExit(await (await import('./commands/hosts.ts')).hostsRmCommand(name, opts, output)),
  );

  examples(
    fleetSource(
      hosts
        .command('sync')
        .description(
          'register and deregister hosts from a source of truth (a file, or exec:COMMAND such as knife search): validated like an inventory, written in one transaction; removes only hosts an earlier sync registered, and refuses to remove most of them (an empty or failed search) without --force',
        )
        .requiredOption('--from <source>', 'inventory: FILE.yaml|json or exec:COMMAND printing JSON hosts (Chef nodes are mapped)')
        .option('-n, --dry-run', 'print what would be added, updated and removed; write nothing')
        .option('--force', 'remove hosts even when the source drops more than half of those the last sync registered')
        .addOption(formatOption()),
    ),
    [`palisade hosts sync --from "exec:knife search node '*:*' -F json" --dry-run --inventory ${URL}`, 'palisade hosts sync --from cmdb-export.json'],
  ).action(async (opts: HostsSyncOptions) => setExit(await (await import('./commands/hosts.ts')).hostsSyncCommand(opts, output)));

  const fleet = program.command('fleet').description('state and security of an etcd fleet');
  examples(
    fleetSource(
      fleet
        .command('status')
        .description('every host, what it applied, and which lag, fail or are missing')
        .addOption(formatOption()),
    ),
    [`palisade fleet status --inventory ${URL}`, "palisade fleet status --format json | jq '.hosts[] | select(.state != \"ok\")'"],
  ).action(async (opts: FleetStatusOptions) => setExit(await (await import('./commands/fleet-status.ts')).fleetStatusCommand(opts, output)));
  examples(
    fleetSource(
      fleet
        .command('flows')
        .description("every host's denied or audited flows (what agents publish with --flows-from), added up, busiest first")
        .option('-n, --top <n>', 'show the N busiest flows', '50')
        .addOption(formatOption()),
    ),
    [`palisade fleet flows --inventory ${URL}`, `palisade fleet flows --format json > fleet-flows.json && palisade impact --flows fleet-flows.json`],
  ).action(async (opts: FleetFlowsOptions) => setExit(await (await import('./commands/fleet-flows.ts')).fleetFlowsCommand(opts, output)));
  examples(
    fleetSource(
      fleet
        .command('init-auth')
        .description('create users root and admin and role admin (read-write on the prefix), then enable etcd auth')
        .option('--endpoints <list>', 'HOST:PORT,... of the members (instead of --inventory)')
        .option('--prefix <prefix>', 'key prefix, with --endpoints (default /palisade)')
        .option('--root-password-file <file>', "root's password: read from FILE (- for standard input), else $PALISADE_ROOT_PASSWORD, else generated and written to FILE with mode 0600 (printed once without FILE)")
        .option('--admin-password-file <file>', "admin's password, as --root-password-file ($PALISADE_ADMIN_PASSWORD)")
        .addOption(refusedSecret('--root-password'))
        .addOption(refusedSecret('--admin-password')),
    ),
    ['palisade fleet init-auth --endpoints 10.0.0.5:2379,10.0.0.6:2379 --root-password-file root.pass --admin-password-file admin.pass', `palisade fleet init-auth --inventory ${URL}`],
  ).action(async (opts: InitAuthOptions) => setExit(await (await import('./commands/fleet-auth.ts')).initAuthCommand(opts, output)));
  examples(
    fleetSource(
      fleet
        .command('add-agent')
        .description("register host NAME (its identity, and the networks its agent may claim addresses in) and create the etcd user for its agent: reads the prefix, writes only its own observation, claims, liveness, status and flows")
        .argument('<name>', 'host name')
        .option('--environment <name>', 'environment')
        .option('--role <roles...>', 'roles')
        .option('--tag <tags...>', 'tags')
        .option('--attribute <key=value...>', 'attributes')
        .option('--network <cidrs...>', 'networks the agent may claim addresses in (e.g. 10.0.1.0/24)')
        .option('--address <addresses...>', 'addresses to pin (they beat any claim)')
        .option('--lan <interface>', 'default interface')
        .option('--max-addresses <n>', `observed addresses kept at most (default ${DEFAULT_MAX_ADDRESSES})`, positiveInt)
        .option('--agent-password-file <file>', "its password: read from FILE (- for standard input), else $PALISADE_AGENT_PASSWORD, else generated and written to FILE with mode 0600 (printed once without FILE)")
        .addOption(refusedSecret('--agent-password')),
    ),
    [
      `palisade fleet add-agent web-1 --role webserver --tag shop --environment production --network 10.0.1.0/24 --user root --password-file root.pass --inventory ${URL}`,
      'palisade fleet add-agent db-1 --role db --network 10.0.2.0/24 2001:db8:2::/64 --max-addresses 4',
    ],
  ).action(async (name: string, opts: AddAgentOptions) => setExit(await (await import('./commands/fleet-auth.ts')).addAgentCommand(name, opts, output)));
}
