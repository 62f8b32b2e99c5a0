/** `palisade console`: the web console (src/console/), loaded only when it runs. */
import type { Command } from 'commander';
import type { ConsoleOptions } from './commands/console.ts';
import { examples, sourceOptions } from './options.ts';
import type { Output } from './output.ts';
import { etcdOptions } from './register-fleet.ts';

export function registerConsoleCommands(program: Command, output: Output, setExit: (code: number) => void): void {
  examples(
    etcdOptions(
      sourceOptions(
        program
          .command('console')
          .description('the fleet as a map in a browser, read-only: roles and what the policy lets them do, hosts, explain, a pending policy; live with an etcd:// inventory')
          .option('-l, --listen <address>', 'ADDRESS:PORT to serve on; off loopback needs --token-file or TLS client auth', '127.0.0.1:8742')
          .option('--token-file <file>', 'require this bearer token on every API request (the page takes it as #token=...)')
          .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
          .option('--tls-key <file>', 'the key of --tls-cert (PEM)')
          .option('--tls-client-ca <file>', 'require client certificates signed by this CA (PEM)')
          .option('--flows <files...>', 'observed flows (palisade flows/observe JSON) for the map and the pending policy')
          .option('--pending <file>', 'a candidate policy file on this machine, shown on the pending page (what it adds, removes and cuts)'),
      ),
    ),
    [
      'palisade console',
      'palisade console --flows seen.json',
      'palisade console --flows seen.json --pending candidate.yaml',
      'palisade console --inventory etcd://10.0.0.5:2379/palisade --user admin --password-file admin.pass',
      'palisade console --listen 0.0.0.0:8742 --token-file /etc/palisade/console.token',
    ],
  ).action(async (opts: ConsoleOptions) => setExit(await (await import('./commands/console.ts')).consoleCommand(opts, output)));
}
