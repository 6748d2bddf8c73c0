import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeLogsProtobuf, type ReceivedLogRecord } from '../../helpers/otlp-logs-receiver.js';
import { decodeMetricsRequest, type ReceivedResourceMetrics } from '../../helpers/otlp-receiver.js';

/** One OTLP/HTTP request as it arrived: its decompressed bytes, and what they decode to. */
export interface CapturedRequest {
  readonly signal: 'metrics' | 'logs';
  readonly raw: Buffer;
}

/**
 * An OTLP/HTTP protobuf receiver for metrics and logs that keeps every request's raw bytes
 * (gzip undone), so a test can search them for text that must never be sent, and decodes them
 * with the official definitions so it also knows what was sent.
 */
export class OtlpCapture {
  readonly requests: CapturedRequest[] = [];
  readonly metrics: ReceivedResourceMetrics[] = [];
  readonly logRecords: ReceivedLogRecord[] = [];
  /** Requests that did not decode: a broken exporter, not a leak check to trust. */
  decodeErrors = 0;

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<OtlpCapture> {
    // The handler needs the capture, which needs the server's address: filled in below.
    const holder: { capture?: OtlpCapture } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const signal =
          req.url === '/v1/metrics' ? 'metrics' : req.url === '/v1/logs' ? 'logs' : undefined;
        const capture = holder.capture;
        if (signal === undefined || req.method !== 'POST' || capture === undefined) {
          res.writeHead(404).end();
          return;
        }
        let raw = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        capture.requests.push({ signal, raw });
        try {
          if (signal === 'metrics') capture.metrics.push(...decodeMetricsRequest(raw));
          else capture.logRecords.push(...decodeLogsProtobuf(raw).flatMap((r) => r.records));
        } catch {
          capture.decodeErrors += 1;
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const capture = new OtlpCapture(server, `http://127.0.0.1:${port}`);
    holder.capture = capture;
    return capture;
  }

  /** Environment for an exporter sending here over HTTP/protobuf, every second. */
  env(): Record<string, string> {
    return {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: this.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
    };
  }

  /** Requests whose bytes contain any of `needles`. */
  containing(needles: readonly Buffer[]): CapturedRequest[] {
    return this.requests.filter((r) => needles.some((n) => r.raw.includes(n)));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
