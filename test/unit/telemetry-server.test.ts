import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptsGzip, TelemetryServer } from '../../src/cli/telemetry-server.js';
import type { LogFields, Logger } from '../../src/core/logger.js';
import type { ReadinessCheck } from '../../src/core/self-telemetry.js';

interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function get(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function recordingLogger(): Logger & { warnings: { msg: string; fields?: LogFields }[] } {
  const warnings: { msg: string; fields?: LogFields }[] = [];
  const logger = {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (msg: string, fields?: LogFields) => void warnings.push({ msg, fields }),
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

const servers: TelemetryServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(
  over: Partial<Parameters<typeof TelemetryServer.start>[0]> = {},
): Promise<TelemetryServer> {
  const server = await TelemetryServer.start({
    host: '127.0.0.1',
    port: 0,
    logger: recordingLogger(),
    readiness: () => [],
    metrics: () => '',
    ...over,
  });
  servers.push(server);
  return server;
}

describe('TelemetryServer', () => {
  it('binds a free port when asked for port 0 and answers /healthz', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    const res = await get(server.port, '/healthz');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok\n');
  });

  it('answers /readyz with 200 or 503 and the checks as JSON', async () => {
    let checks: ReadinessCheck[] = [
      { name: 'config', ok: true },
      { name: 'first-cycle', ok: true },
    ];
    const server = await start({ readiness: () => checks });
    const ok = await get(server.port, '/readyz');
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(ok.body.toString())).toEqual({ ready: true, checks });

    checks = [...checks, { name: 'adapter:otlp', ok: false, detail: 'connection refused' }];
    const notReady = await get(server.port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body.toString())).toEqual({ ready: false, checks });
  });

  it('serves /metrics as text format 0.0.4, gzipped when the client accepts it', async () => {
    const text = `# HELP x_total X.\n# TYPE x_total counter\n${Array.from(
      { length: 200 },
      (_, i) => `x_total{n="${i}"} ${i}`,
    ).join('\n')}\n`;
    const server = await start({ metrics: () => text });

    const plain = await get(server.port, '/metrics?debug=1');
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(text);

    const zipped = await get(server.port, '/metrics', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).toString()).toBe(text);
  });

  it('answers HEAD with headers only', async () => {
    const server = await start({ metrics: () => 'm 1\n' });
    const res = await get(server.port, '/metrics', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('4');
    expect(res.body.length).toBe(0);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const server = await start();
    expect((await get(server.port, '/')).status).toBe(404);
    expect((await get(server.port, '/metrics/extra')).status).toBe(404);
    const post = await get(server.port, '/metrics', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('turns a throwing callback into a 500 and a warning, and keeps serving', async () => {
    const logger = recordingLogger();
    let fail = true;
    const server = await start({
      logger,
      metrics: () => {
        if (fail) throw new Error('render broke');
        return 'm 1\n';
      },
      readiness: () => {
        throw new Error('readiness broke');
      },
    });
    expect((await get(server.port, '/metrics')).status).toBe(500);
    expect((await get(server.port, '/readyz')).status).toBe(500);
    expect(logger.warnings).toEqual([
      { msg: 'telemetry endpoint failed', fields: { path: '/metrics', error: 'render broke' } },
      { msg: 'telemetry endpoint failed', fields: { path: '/readyz', error: 'readiness broke' } },
    ]);
    fail = false;
    expect((await get(server.port, '/metrics')).body.toString()).toBe('m 1\n');
  });

  it('survives request targets that are not valid URLs', async () => {
    const server = await start();
    for (const target of ['//', '/\\', '//a:b@', '*']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const raw = connect(server.port, '127.0.0.1');
        let data = '';
        raw.on('data', (d: Buffer) => (data += d.toString()));
        raw.on('error', reject);
        raw.on('end', () => resolve(data));
        raw.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 (404|400)/);
    }
    expect((await get(server.port, '/healthz')).status).toBe(200);
  });

  it('rejects start with a clear error when the port is taken', async () => {
    const first = await start();
    await expect(start({ port: first.port })).rejects.toThrow(
      `telemetry listener: 127.0.0.1:${first.port} is already in use`,
    );
  });

  it('closes idle keep-alive and half-sent connections', async () => {
    const server = await TelemetryServer.start({
      host: '127.0.0.1',
      port: 0,
      logger: recordingLogger(),
      readiness: () => [],
      metrics: () => '',
    });
    const port = server.port;
    const agent = new Agent({ keepAlive: true });
    const res = await get(port, '/healthz', { agent });
    expect(res.status).toBe(200);
    const idle = Object.values(agent.freeSockets).flat();
    expect(idle).toHaveLength(1);
    const idleClosed = new Promise((resolve) => idle[0]?.once('close', resolve));

    // A request whose headers never end holds the connection busy, not idle.
    const raw = connect(port, '127.0.0.1');
    // The server resets it: that is the point.
    raw.on('error', () => undefined);
    await new Promise<void>((resolve) => raw.once('connect', resolve));
    raw.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    const rawClosed = new Promise((resolve) => raw.once('close', resolve));
    await new Promise((resolve) => setImmediate(resolve));

    await server.close();
    await Promise.all([idleClosed, rawClosed]);
    await server.close();
    agent.destroy();
    await expect(get(port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('acceptsGzip', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['deflate, gzip;q=0.5', true],
    ['GZIP', true],
    ['gzip;q=0', false],
    ['*', true],
    ['identity', false],
  ])('%s → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
