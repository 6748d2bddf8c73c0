import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Logger } from '../core/logger.js';
import type { ReadinessCheck } from '../core/self-telemetry.js';

/** Content type of the Prometheus text exposition format, version 0.0.4. */
const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Below this, compressing costs more than it saves. */
const GZIP_MIN_BYTES = 1024;

/** What the telemetry listener serves. */
export interface TelemetryServerOptions {
  /** Address to bind, e.g. `127.0.0.1` or `0.0.0.0`. */
  readonly host: string;
  /** Port to bind; 0 picks a free one (see `TelemetryServer.port`). */
  readonly port: number;
  readonly logger: Logger;
  /** Current readiness checks, for /readyz; ready when every one is ok. */
  readonly readiness: () => readonly ReadinessCheck[];
  /** Current exposition text, for /metrics. */
  readonly metrics: () => string;
}

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly compressible?: boolean;
}

/**
 * The collector's own HTTP listener: `/healthz` (the process is up), `/readyz` (config loaded,
 * first cycle done, adapters reachable) and `/metrics` (Prometheus). The callbacks are read per
 * request, so the answers are always current; a failing callback costs that request a 500,
 * never the collector.
 */
export class TelemetryServer {
  readonly #server: Server;
  readonly #options: TelemetryServerOptions;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, options: TelemetryServerOptions) {
    this.#server = server;
    this.#options = options;
  }

  /** Binds and starts serving; rejects with a clear message when the port cannot be bound. */
  static async start(options: TelemetryServerOptions): Promise<TelemetryServer> {
    const server = createServer();
    const telemetry = new TelemetryServer(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      telemetry.#handle(req, res),
    );
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        reject(new Error(listenFailure(err, options.host, options.port), { cause: err }));
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(options.port, options.host);
    });
    // Errors after binding (a broken client socket) are per connection; never crash on them.
    server.on('error', (err) =>
      options.logger.warn('telemetry listener error', { error: err.message }),
    );
    options.logger.debug('telemetry listener started', {
      host: options.host,
      port: telemetry.port,
    });
    return telemetry;
  }

  /** The port actually bound (the chosen one when started with port 0). */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Stops listening and drops open connections, idle keep-alive ones included; idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      // close() alone waits for keep-alive sockets to time out.
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    // Bodies are never read; draining lets the connection be reused.
    req.resume();
    const method = req.method ?? 'GET';
    // Split by hand: `new URL` throws on targets such as `//`, and this runs in an event
    // listener, where a throw would end the process.
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    let reply: Reply;
    try {
      reply = this.#route(method, path);
    } catch (err) {
      this.#options.logger.warn('telemetry endpoint failed', {
        path,
        error: err instanceof Error ? err.message : String(err),
      });
      reply = { status: 500, contentType: 'text/plain; charset=utf-8', body: 'internal error\n' };
    }
    this.#send(req, res, method, reply);
  }

  #route(method: string, path: string): Reply {
    const known = path === '/healthz' || path === '/readyz' || path === '/metrics';
    if (!known) return text(404, 'not found\n');
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed\n');
    if (path === '/healthz') return text(200, 'ok\n');
    if (path === '/readyz') {
      const checks = this.#options.readiness();
      const ready = checks.every((c) => c.ok);
      return {
        status: ready ? 200 : 503,
        contentType: 'application/json; charset=utf-8',
        body: `${JSON.stringify({ ready, checks })}\n`,
      };
    }
    return {
      status: 200,
      contentType: METRICS_CONTENT_TYPE,
      body: this.#options.metrics(),
      compressible: true,
    };
  }

  #send(req: IncomingMessage, res: ServerResponse, method: string, reply: Reply): void {
    let body = Buffer.from(reply.body, 'utf8');
    const headers: Record<string, string | number> = {
      'Content-Type': reply.contentType,
      'Cache-Control': 'no-store',
    };
    if (reply.status === 405) headers.Allow = 'GET, HEAD';
    if (reply.compressible === true) {
      headers.Vary = 'Accept-Encoding';
      if (body.length >= GZIP_MIN_BYTES && acceptsGzip(req.headers['accept-encoding'])) {
        body = gzipSync(body);
        headers['Content-Encoding'] = 'gzip';
      }
    }
    headers['Content-Length'] = body.length;
    res.writeHead(reply.status, headers);
    res.end(method === 'HEAD' ? undefined : body);
  }
}

function text(status: number, body: string): Reply {
  return { status, contentType: 'text/plain; charset=utf-8', body };
}

/** Whether `Accept-Encoding` allows gzip (listed, or `*`, without `q=0`). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    if (coding.trim() !== 'gzip' && coding.trim() !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

function listenFailure(err: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (err.code === 'EADDRINUSE') return `telemetry listener: ${where} is already in use`;
  if (err.code === 'EACCES') return `telemetry listener: no permission to bind ${where}`;
  if (err.code === 'EADDRNOTAVAIL')
    return `telemetry listener: ${host} is not an address of this machine`;
  return `telemetry listener: cannot listen on ${where}: ${err.message}`;
}
