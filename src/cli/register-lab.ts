/** The `palisade lab ...` commands: a network-namespace lab that loads every host's ruleset and probes it for real. */
import { Option, type Command } from 'commander';
import type { LabOptions, LabSubcommand } from './commands/lab.ts';
import { backendOption, examples, formatOption, sourceOptions } from './options.ts';
import type { Output } from './output.ts';

const DEFAULT_LAB = 'lab';

const labOption = (command: Command, fallback = DEFAULT_LAB): Command =>
  command.option('-l, --lab <name>', 'lab name (a-z, 0-9, -; up to 12): namespaces are pal-<lab>-<n>', fallback);

export function registerLabCommands(program: Command, output: Output, setExit: (code: number) => void): void {
  const run = (subcommand: LabSubcommand) => async (opts: LabOptions) => setExit(await (await import('./commands/lab.ts')).labCommand(subcommand, opts, output));
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
  ).action(run('up'));

  examples(labOption(lab.command('down').description('remove everything the lab created (namespaces, bridge, users), also after a crash; idempotent')), [
    'palisade lab down',
    'palisade lab down --lab shop',
  ]).action(run('down'));

  examples(
    labOption(sourceOptions(lab.command('apply').description("compile every host's ruleset and load it into the host's namespace"))).addOption(backendOption()),
    ['palisade lab apply', 'palisade lab apply --backend iptables', 'palisade lab apply --policy policy.yaml roles/ --lab shop'],
  ).action(run('apply'));

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
      .addOption(formatOption(['text', 'json', 'html'])),
    ['palisade lab probe', 'palisade lab probe --backend iptables', 'palisade lab probe --format json | jq .summary', 'palisade lab probe --format html > probe.html', 'palisade lab probe --port 4369 25672/tcp'],
  ).action(run('probe'));

  examples(
    labOption(
      lab
        .command('audit')
        .description("collect audit mode's records: ulogd2 with the shipped configuration (examples/audit/ulogd.conf) in every host's namespace, until lab down")
        .option('-g, --log-group <n>', 'the NFLOG group audit mode logs to (settings.audit.log_group)', '7'),
    ),
    ['palisade lab audit && palisade flows --lab lab', 'palisade lab audit --lab shop; palisade flows --lab shop --format json > seen.json; palisade suggest --flows seen.json'],
  ).action(run('audit'));

  examples(
    labOption(
      lab
        .command('container')
        .description("put a container (Docker) or pod (kube-proxy NodePort) behind a lab host, its ports published by the runtime's rules as the runtime writes them")
        .requiredOption('--host <host>', 'the lab host the container runs on')
        .addOption(new Option('--runtime <runtime>', 'whose rules publish the ports').choices(['docker', 'nodeport']).default('docker'))
        .requiredOption('--publish <ports...>', 'HOST_PORT[:CONTAINER_PORT][/tcp|/udp], as docker run -p (a NodePort for nodeport)'),
    ),
    ['palisade lab container --host db-1 --publish 5432:5432 8080:80', 'palisade lab container --host node-1 --runtime nodeport --publish 30080:8080'],
  ).action(run('container'));

  examples(
    labOption(sourceOptions(lab.command('published').description('connections from every other lab host to every published port, compared with explain --dnat; exit 3 on any difference'))).addOption(
      formatOption(),
    ),
    ['palisade lab published', 'palisade lab published --format json'],
  ).action(run('published'));

  examples(labOption(lab.command('logs').description("drop and log counters of palisade's chains in every lab host")).addOption(formatOption()), [
    'palisade lab logs',
    'palisade lab logs --format json',
  ]).action(run('logs'));

  examples(
    labOption(sourceOptions(lab.command('demo').description('lab up, apply, probe, print the matrix, lab down (always); without root, print the plan instead')), 'demo')
      .addOption(backendOption())
      .addOption(formatOption()),
    ['palisade lab demo', 'sudo npx palisade lab demo --backend iptables'],
  ).action(async (opts: LabOptions) => setExit(await (await import('./commands/lab.ts')).labDemoCommand(opts, output)));
}
