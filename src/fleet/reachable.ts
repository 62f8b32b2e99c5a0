/** Whether this process reaches etcd on a new TCP connection (an established one survives any ruleset). */
import { connect } from 'node:net';

const CONNECT_TIMEOUT_MS = 1000;

function reaches(endpoint: string): Promise<boolean> {
  const colon = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(endpoint.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** True when any member accepts a new connection. */
export async function reachesAny(endpoints: readonly string[]): Promise<boolean> {
  const results = await Promise.all(endpoints.map(reaches));
  return results.some(Boolean);
}
