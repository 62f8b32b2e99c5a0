/**
 * `palisade console`: the HTTP front end of the console (hono on node:http or node:https). It serves the page
 * (three static files) and a read-only JSON API over src/app/console-views.ts, with server-sent events when the
 * world changes. Nothing here writes anything: no push, no apply.
 *
 * Security: a strict Content-Security-Policy (scripts only from this origin, no inline script or style), no
 * framing, no sniffing; on loopback the Host header must name the listening address (a DNS-rebinding page cannot
 * read the API); off loopback an API request needs the bearer token (compared in constant time) unless TLS
 * client certificates authenticate every connection; only GET, HEAD and the pending-policy POST are answered,
 * a POST only from this origin and at most MAX_PENDING_BYTES; errors are JSON without traces.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { HostPage } from '../app/console-api.ts';
import type { ConsoleSource } from '../app/console.ts';
import { explainView, hostPage, hostsView, localCounters, mapView, MAX_PENDING_BYTES, pendingView } from '../app/console-views.ts';
import { InputError, OperationError, UsageError } from '../diagnostics.ts';
import type { ConsoleAssets } from './assets.ts';

export const DEFAULT_LISTEN = '127.0.0.1:8742';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface ConsoleServerOptions {
  host: string;
  port: number;
  /** Required on an API request when set: `Authorization: Bearer <token>`. */
  token: string | null;
  /** TLS; with `ca`, every client must present a certificate it signed. */
  tls: { cert: string; key: string; ca: string | null } | null;
  /** `console --pending FILE`: a candidate policy on the server, shown on the pending page at start. */
  pending?: { name: string; text: string } | null;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Constant time whatever the lengths: both sides are hashed first. */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function hostsFor(host: string, port: number): Set<string> {
  const names = host === '127.0.0.1' || host === 'localhost' ? ['127.0.0.1', 'localhost'] : host === '::1' ? ['[::1]', 'localhost'] : [host];
  return new Set(names.map((n) => `${n}:${port}`.toLowerCase()));
}

function failure(c: Context, cause: unknown): Response {
  if (cause instanceof UsageError) return c.json({ error: cause.message }, 400);
  if (cause instanceof InputError) return c.json({ error: 'invalid input', diagnostics: cause.diagnostics }, 422);
  if (cause instanceof OperationError) return c.json({ error: cause.message }, 502);
  return c.json({ error: 'internal error' }, 500);
}

const query = (c: Context, name: string): string | undefined => c.req.query(name);

/** The app alone (no socket), for the server and for tests through `app.request()`. */
export function consoleApp(source: ConsoleSource, assets: ConsoleAssets, options: ConsoleServerOptions, actualPort: () => number = () => options.port): Hono {
  const app = new Hono();
  const loopback = isLoopback(options.host);

  app.use('*', async (c, next) => {
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    if (loopback && !hostsFor(options.host, actualPort()).has((c.req.header('host') ?? '').toLowerCase())) {
      return c.json({ error: 'unexpected Host header: open the console at the address it listens on' }, 421);
    }
    const pending = c.req.method === 'POST' && c.req.path === '/api/pending';
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && !pending) return c.json({ error: 'the console is read-only' }, 405);
    if (pending) {
      const origin = c.req.header('origin');
      const expected = `${options.tls === null ? 'http' : 'https'}://${(c.req.header('host') ?? '').toLowerCase()}`;
      if (origin !== undefined && origin.toLowerCase() !== expected) return c.json({ error: 'cross-origin request refused' }, 403);
    }
    if (c.req.path.startsWith('/api/')) {
      c.header('Cache-Control', 'no-store');
      if (options.token !== null) {
        const given = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
        if (!tokenMatches(given, options.token)) return c.json({ error: 'a valid bearer token is required' }, 401);
      }
    }
    await next();
  });

  app.get('/', (c) => c.html(assets.html));
  app.get('/app.js', (c) => c.body(assets.js, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/style.css', (c) => c.body(assets.css, 200, { 'Content-Type': 'text/css; charset=utf-8' }));

  const api = <T>(fn: (c: Context) => T | Promise<T>) => async (c: Context): Promise<Response> => {
    try {
      return c.json((await fn(c)) as object);
    } catch (cause) {
      return failure(c, cause);
    }
  };
  const listParam = (c: Context, name: string): string[] => (c.req.queries(name) ?? []).filter((v) => v !== '');
  const opt = (c: Context, name: string): Record<string, string> => {
    const value = query(c, name);
    return value === undefined || value === '' ? {} : { [name]: value };
  };

  app.get(
    '/api/map',
    api((c) => mapView(source.world(), { ...opt(c, 'environment'), ...opt(c, 'search'), ...opt(c, 'port'), expand: listParam(c, 'expand'), open: listParam(c, 'open') })),
  );
  app.get('/api/hosts', api(() => hostsView(source.world())));
  app.get(
    '/api/hosts/:name',
    api(async (c) => {
      const page = hostPage(source.world(), c.req.param('name') ?? '');
      const local = await localCounters(page.name);
      return local === null ? page : ({ ...page, counters: local } satisfies HostPage);
    }),
  );
  app.get(
    '/api/explain',
    api((c) => {
      const from = query(c, 'from');
      const to = query(c, 'to');
      const port = query(c, 'port');
      if (from === undefined || to === undefined || port === undefined) throw new UsageError('explain needs from, to and port');
      return explainView(source.world(), { from, to, port, ...opt(c, 'user') });
    }),
  );
  app.post(
    '/api/pending',
    bodyLimit({ maxSize: MAX_PENDING_BYTES, onError: (c) => c.json({ error: `the policy is larger than ${MAX_PENDING_BYTES} bytes` }, 413) }),
    /* `?file`: the text is the --pending file's (perhaps edited), so its errors name that file. */
    api(async (c) => pendingView(source.world(), await c.req.text(), c.req.query('file') !== undefined && options.pending != null ? options.pending.name : undefined)),
  );
  app.get('/api/pending', (c) => (options.pending == null ? c.json({ error: 'no pending policy on the server: start the console with --pending FILE' }, 404) : c.json(options.pending)));
  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      let closed = false;
      const queue: number[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = source.subscribe((world) => {
        queue.push(world.generation);
        wake?.();
      });
      stream.onAbort(() => {
        closed = true;
        unsubscribe();
        wake?.();
      });
      await stream.writeSSE({ event: 'world', data: JSON.stringify({ generation: source.world().generation, mode: source.world().mode }) });
      while (!closed) {
        const generation = queue.shift();
        if (generation !== undefined) {
          await stream.writeSSE({ event: 'world', data: JSON.stringify({ generation }) });
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 15_000).unref();
        });
        wake = null;
        if (queue.length === 0 && !closed) await stream.write(': keep-alive\n\n');
      }
    }),
  );
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((cause, c) => failure(c, cause));
  return app;
}

export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens; refuses a non-loopback address without a token or TLS client authentication. */
export async function startConsoleServer(source: ConsoleSource, assets: ConsoleAssets, options: ConsoleServerOptions): Promise<RunningConsole> {
  if (!isLoopback(options.host) && options.token === null && options.tls?.ca == null) {
    throw new UsageError(`listening on ${options.host} (not loopback) needs --token-file or TLS client authentication (--tls-cert, --tls-key, --tls-client-ca)`);
  }
  /* The default map is built before the first page asks, and again after every change of the world. */
  mapView(source.world());
  const unsubscribe = source.subscribe((world) => void mapView(world));
  let port = options.port;
  const app = consoleApp(source, assets, options, () => port);
  const tls = options.tls;
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        hostname: options.host.replace(/^\[|\]$/g, ''),
        port: options.port,
        ...(tls === null
          ? {}
          : { createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key, ...(tls.ca === null ? {} : { ca: tls.ca, requestCert: true, rejectUnauthorized: true }) } }),
      },
      () => resolve(s as Server),
    ) as Server;
    s.once('error', (cause: NodeJS.ErrnoException) => {
      unsubscribe();
      reject(new OperationError(`cannot listen on ${options.host}:${options.port}: ${cause.code === 'EADDRINUSE' ? 'the port is in use' : cause.message}`, { kind: 'other', unchanged: true, cause }));
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  port = (server.address() as AddressInfo).port;
  const shown = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  return {
    url: `${tls === null ? 'http' : 'https'}://${shown}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribe();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
