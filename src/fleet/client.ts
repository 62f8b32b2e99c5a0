/**
 * An etcd3 client for an etcd:// location, with password auth and TLS. Options come from flags, else from
 * PALISADE_ETCD_USER, PALISADE_ETCD_PASSWORD_FILE, PALISADE_ETCD_CACERT, PALISADE_ETCD_CERT, PALISADE_ETCD_KEY
 * (so `check`/`plan --inventory etcd://...` work against a secured cluster without new flags).
 */
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';
import { InputError, error } from '../diagnostics.ts';
import type { EtcdLocation } from './url.ts';

export interface EtcdAuthOptions {
  user?: string;
  /** The password itself (init-auth's --root-password); prefer passwordFile. */
  password?: string;
  passwordFile?: string;
  /** CA certificate (PEM) of the etcd servers: turns on TLS. */
  cacert?: string;
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string;
  key?: string;
}

const DIAL_TIMEOUT_MS = 3000;
const WATCH_BACKOFF_MAX_MS = 1000;
/**
 * Largest response the client accepts. gRPC's default, 4 MB, is the `hosts/` range of about 25,000 hosts: the agent
 * of a larger fleet retried its snapshot read forever (found by bench/fleet-sim.ts: 100,000 hosts are tens of MB).
 * etcd sends up to 2 GB; 1 GB leaves room for millions of keys and still bounds a runaway answer.
 */
export const MAX_RESPONSE_BYTES = 2 ** 30;

/**
 * How long etcd3 waits before re-establishing a broken watch stream: 100 ms doubling up to 1 s. Its default
 * grows to 30 s, which would leave an agent blind for that long after etcd comes back.
 */
export class WatchBackoff {
  constructor(private readonly attempt = 0) {}

  get duration(): number {
    return Math.min(WATCH_BACKOFF_MAX_MS, 100 * 2 ** Math.min(this.attempt, 10));
  }

  next(): WatchBackoff {
    return new WatchBackoff(this.attempt + 1);
  }
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new InputError([error(`cannot read the ${what}: ${(cause as Error).message}`, { file: path })]);
  }
}

/** Flags win; unset ones fall back to the PALISADE_ETCD_* environment variables. */
export function withEnvironment(options: EtcdAuthOptions, env: NodeJS.ProcessEnv = process.env): EtcdAuthOptions {
  const pick = (value: string | undefined, name: string): string | undefined => value ?? (env[name] === '' ? undefined : env[name]);
  const merged: EtcdAuthOptions = {};
  const fields: Array<[keyof EtcdAuthOptions, string]> = [
    ['user', 'PALISADE_ETCD_USER'],
    ['passwordFile', 'PALISADE_ETCD_PASSWORD_FILE'],
    ['cacert', 'PALISADE_ETCD_CACERT'],
    ['cert', 'PALISADE_ETCD_CERT'],
    ['key', 'PALISADE_ETCD_KEY'],
  ];
  for (const [field, name] of fields) {
    const value = pick(options[field], name);
    if (value !== undefined) merged[field] = value;
  }
  if (options.password !== undefined) merged.password = options.password;
  return merged;
}

/** The etcd3 options for a location; reads the password file and PEM files now. */
export function clientOptions(location: EtcdLocation, options: EtcdAuthOptions): IOptions {
  const tls = options.cacert !== undefined;
  const result: IOptions = {
    hosts: location.endpoints.map((e) => `${tls ? 'https' : 'http'}://${e}`),
    dialTimeout: DIAL_TIMEOUT_MS,
    faultHandling: { watchBackoff: new WatchBackoff() },
    grpcOptions: { 'grpc.max_receive_message_length': MAX_RESPONSE_BYTES },
  };
  if (tls) {
    result.credentials = {
      rootCertificate: readPem(options.cacert as string, 'CA certificate (--cacert)'),
      ...(options.cert === undefined ? {} : { certChain: readPem(options.cert, 'client certificate (--cert)') }),
      ...(options.key === undefined ? {} : { privateKey: readPem(options.key, 'client key (--key)') }),
    };
  }
  if (options.user !== undefined) {
    const password = options.password ?? (options.passwordFile === undefined ? undefined : readPem(options.passwordFile, 'password file').toString('utf8').trim());
    if (password === undefined) throw new InputError([error(`etcd user "${options.user}" needs --password-file`)]);
    result.auth = { username: options.user, password };
  }
  return result;
}

export function connectEtcd(location: EtcdLocation, options: EtcdAuthOptions = {}): Etcd3 {
  return new Etcd3(clientOptions(location, withEnvironment(options)));
}

/** etcd's answer in words a user can act on: which flag or file to give when credentials are missing or wrong. */
export function describeEtcdFailure(message: string, options: EtcdAuthOptions): string {
  const auth = withEnvironment(options);
  if (/user name is empty/i.test(message)) {
    return 'etcd has authentication on and no user was given: pass --user NAME --password-file FILE (or set PALISADE_ETCD_USER and PALISADE_ETCD_PASSWORD_FILE)';
  }
  if (/authentication failed|invalid user ID or password/i.test(message)) {
    const from = auth.passwordFile === undefined ? 'the password given' : `the password in ${auth.passwordFile}`;
    return `etcd refused user "${auth.user ?? ''}" with ${from}: check --user and --password-file`;
  }
  if (/permission denied/i.test(message)) {
    return `etcd user "${auth.user ?? '(none)'}" may not do this (permission denied): an admin's command needs --user admin (or root) --password-file FILE`;
  }
  return `etcd: ${message}`;
}
