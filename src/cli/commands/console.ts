/**
 * `palisade console`: the fleet as a map in a browser (src/console/). Files or `exec:` inventories are read
 * once; an `etcd://` inventory is watched and the page follows it. Runs until SIGTERM or SIGINT.
 */
import { readFile, stat } from 'node:fs/promises';
import { fileConsoleSource, fleetConsoleSource, type ConsoleSource } from '../../app/console.ts';
import { MAX_PENDING_BYTES } from '../../app/console-views.ts';
import { loadConfig, type ConfigOverrides } from '../../app/config.ts';
import { fileError } from '../../app/files.ts';
import type { EtcdAuthOptions } from '../../fleet/client.ts';
import { isEtcdUrl } from '../../fleet/url.ts';
import { consoleAssets } from '../../console/assets.ts';
import { DEFAULT_LISTEN, startConsoleServer } from '../../console/server.ts';
import { UsageError } from '../../diagnostics.ts';
import type { Output } from '../output.ts';
import { stopSignal } from '../stop-signal.ts';

export interface ConsoleOptions extends ConfigOverrides, EtcdAuthOptions {
  listen: string;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  flows?: string[];
  pending?: string;
}

/** ADDR:PORT, [v6]:PORT or a port alone (on 127.0.0.1). */
export function parseListen(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const rawHost = colon < 0 ? '127.0.0.1' : text.slice(0, colon);
  const portText = colon < 0 ? text : text.slice(colon + 1);
  const host = /^\[[0-9a-fA-F:.]+\]$/.test(rawHost) ? rawHost.slice(1, -1) : rawHost;
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535 || host === '' || /[\s/[\]]/.test(host) || (host.includes(':') && !rawHost.startsWith('['))) {
    throw new UsageError(`--listen "${text}": expected ADDRESS:PORT, [IPv6]:PORT or PORT, e.g. ${DEFAULT_LISTEN}`);
  }
  return { host, port };
}

async function readSecret(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw fileError(path, `read the ${what}`, cause, true);
  }
  const value = text.trim();
  if (value === '') throw new UsageError(`${what} ${path} is empty`);
  return value;
}

/** The candidate policy of `--pending FILE`, bounded like a pasted one. */
async function readPending(path: string): Promise<{ name: string; text: string }> {
  let size: number;
  let text: string;
  try {
    size = (await stat(path)).size;
    if (size > MAX_PENDING_BYTES) throw new UsageError(`--pending ${path}: ${size} bytes, larger than the ${MAX_PENDING_BYTES} bytes a pending policy may have`);
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    throw fileError(path, 'read the pending policy', cause, true);
  }
  return { name: path, text };
}

async function openSource(options: ConsoleOptions): Promise<ConsoleSource> {
  const config = options.inventory !== undefined && options.config === undefined ? null : await loadConfig(options.config === undefined ? {} : { config: options.config }).catch(() => null);
  const inventory = options.inventory ?? config?.inventory;
  if (inventory !== undefined && isEtcdUrl(inventory)) {
    if (options.policy !== undefined) throw new UsageError('a fleet console shows the policy pushed to the fleet: leave out --policy');
    const { dns: _dns, ...fleet } = options;
    return fleetConsoleSource({ ...fleet, inventory, dnsHosts: config?.dnsHosts ?? {} });
  }
  return fileConsoleSource(options);
}

export async function consoleCommand(options: ConsoleOptions, output: Output): Promise<number> {
  const { host, port } = parseListen(options.listen);
  const token = options.tokenFile === undefined ? null : await readSecret(options.tokenFile, 'token file');
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (options.tlsClientCa !== undefined && options.tlsCert === undefined) throw new UsageError('--tls-client-ca needs --tls-cert and --tls-key');
  const tls =
    options.tlsCert === undefined || options.tlsKey === undefined
      ? null
      : {
          cert: await readSecret(options.tlsCert, 'TLS certificate'),
          key: await readSecret(options.tlsKey, 'TLS key'),
          ca: options.tlsClientCa === undefined ? null : await readSecret(options.tlsClientCa, 'client CA'),
        };
  const pending = options.pending === undefined ? null : await readPending(options.pending);
  const [source, assets] = await Promise.all([openSource(options), consoleAssets()]);
  let server;
  try {
    server = await startConsoleServer(source, assets, { host, port, token, tls, pending });
  } catch (cause) {
    await source.close();
    throw cause;
  }
  output.out(`palisade console (read-only, ${source.world().mode === 'fleet' ? 'live from the fleet' : 'from files'}): ${server.url}${token === null ? '' : ' (bearer token required; open it with #token=TOKEN)'}`);
  await stopSignal();
  await server.close();
  await source.close();
  return 0;
}
