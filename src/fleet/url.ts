/** `etcd://HOST:PORT[,HOST:PORT...]/PREFIX`: the members to dial and the key prefix (default /palisade). */
import { InputError, error } from '../diagnostics.ts';

export const DEFAULT_PREFIX = '/palisade';

export interface EtcdLocation {
  /** host:port of each member, as written. */
  endpoints: string[];
  /** Starts with `/`, no trailing `/`. */
  prefix: string;
}

const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export const isEtcdUrl = (source: string): boolean => source.startsWith('etcd://');

/** Parses the URL; throws an InputError naming what is wrong. */
export function parseEtcdUrl(source: string): EtcdLocation {
  const fail = (why: string): InputError => new InputError([error(`${why}: expected etcd://HOST:PORT[,HOST:PORT...][/PREFIX]`, { file: source })]);
  if (!isEtcdUrl(source)) throw fail('not an etcd URL');
  const rest = source.slice('etcd://'.length);
  const slash = rest.indexOf('/');
  const hosts = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash).replace(/\/+$/, '');
  const endpoints = hosts.split(',').filter((h) => h !== '');
  if (endpoints.length === 0) throw fail('no etcd member');
  const bad = endpoints.find((e) => !ENDPOINT.test(e));
  if (bad !== undefined) throw fail(`"${bad}" is not HOST:PORT`);
  if (path.includes('//')) throw fail(`prefix "${path}" has an empty segment`);
  return { endpoints, prefix: path === '' ? DEFAULT_PREFIX : path };
}
