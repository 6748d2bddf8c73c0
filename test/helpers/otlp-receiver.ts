import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

/** One data point as received, values as numbers. */
export interface ReceivedPoint {
  readonly attributes: Record<string, string | number | boolean>;
  readonly value: number;
  /** `int` (asInt) or `double` (asDouble). */
  readonly valueType: 'int' | 'double';
}

/** One metric as received. */
export interface ReceivedMetric {
  readonly name: string;
  readonly unit: string;
  readonly type: 'gauge' | 'sum' | 'other';
  readonly monotonic?: boolean;
  /** `cumulative` or `delta` for sums. */
  readonly temporality?: 'cumulative' | 'delta';
  readonly points: ReceivedPoint[];
}

/** One resource's metrics from one request. */
export interface ReceivedResourceMetrics {
  readonly resource: Record<string, string | number | boolean>;
  readonly metrics: ReceivedMetric[];
}

/** A running test receiver. */
export interface OtlpReceiver {
  /** URL to give the exporter (gRPC: `http://127.0.0.1:port`; HTTP: `.../v1/metrics`). */
  readonly url: string;
  /** Every request received so far, oldest first. */
  readonly requests: ReceivedResourceMetrics[][];
  close(): Promise<void>;
}

/** A protobufjs message type: what decoding a request body needs. */
export interface Decoder {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

const require = createRequire(import.meta.url);
// otlp-transformer 0.57 still ships the protobufjs request types (see ecosystem.md §5).
const root = require('otlp-decoder/build/src/generated/root') as {
  opentelemetry: {
    proto: { collector: { metrics: { v1: { ExportMetricsServiceRequest: Decoder } } } };
  };
};
/** The ExportMetricsServiceRequest message type, for tests that decode bodies their own way. */
export const METRICS_REQUEST: Decoder =
  root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

type Json = Record<string, unknown>;

/** Decodes an ExportMetricsServiceRequest body into plain resource metrics. */
export function decodeMetricsRequest(body: Uint8Array): ReceivedResourceMetrics[] {
  const message = METRICS_REQUEST.toObject(METRICS_REQUEST.decode(body), {
    longs: Number,
    enums: Number,
    defaults: false,
    arrays: true,
    oneofs: true,
  }) as { resourceMetrics?: Json[] };
  return resourceMetricsOf(message);
}

/** An OTLP/JSON body: the same field names as the protobuf objects (int64 as strings). */
export function decodeJsonMetricsRequest(body: Uint8Array): ReceivedResourceMetrics[] {
  return resourceMetricsOf(JSON.parse(Buffer.from(body).toString('utf8')) as Json);
}

function resourceMetricsOf(message: { resourceMetrics?: Json[] }): ReceivedResourceMetrics[] {
  return (message.resourceMetrics ?? []).map((rm) => ({
    resource: attributesOf((rm.resource as Json | undefined)?.attributes),
    metrics: ((rm.scopeMetrics as Json[] | undefined) ?? []).flatMap((sm) =>
      ((sm.metrics as Json[] | undefined) ?? []).map(metricOf),
    ),
  }));
}

function metricOf(m: Json): ReceivedMetric {
  const base = { name: String(m.name), unit: typeof m.unit === 'string' ? m.unit : '' };
  if (m.gauge !== undefined) {
    return { ...base, type: 'gauge', points: pointsOf((m.gauge as Json).dataPoints) };
  }
  if (m.sum !== undefined) {
    const sum = m.sum as Json;
    return {
      ...base,
      type: 'sum',
      monotonic: sum.isMonotonic === true,
      // AGGREGATION_TEMPORALITY_DELTA = 1, CUMULATIVE = 2.
      temporality: sum.aggregationTemporality === 1 ? 'delta' : 'cumulative',
      points: pointsOf(sum.dataPoints),
    };
  }
  return { ...base, type: 'other', points: [] };
}

function pointsOf(raw: unknown): ReceivedPoint[] {
  return ((raw as Json[] | undefined) ?? []).map((p) => ({
    attributes: attributesOf(p.attributes),
    value: Number(p.asInt ?? p.asDouble ?? 0),
    valueType: p.asInt !== undefined ? 'int' : 'double',
  }));
}

function attributesOf(raw: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of (raw as Json[] | undefined) ?? []) {
    const v = (kv.value ?? {}) as Json;
    const value = v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      out[String(kv.key)] = value;
    }
  }
  return out;
}

/**
 * An OTLP service's unary Export method with identity (de)serializers: the handler gets the
 * request's bytes and decodes them itself, with the official definitions.
 */
export function rawExportService(path: string): grpc.ServiceDefinition {
  const identity = (b: Buffer): Buffer => b;
  return {
    Export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}

/** A gRPC receiver with the raw Export method (identity (de)serializers, decoded here). */
export async function startGrpcReceiver(
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<OtlpReceiver> {
  const requests: ReceivedResourceMetrics[][] = [];
  const server = new grpc.Server();
  server.addService(
    rawExportService('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'),
    {
      Export: (
        call: grpc.ServerUnaryCall<Buffer, Buffer>,
        done: grpc.sendUnaryData<Buffer>,
      ): void => {
        requests.push(decodeMetricsRequest(call.request));
        done(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (err, p) =>
      err === null ? resolve(p) : reject(err),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** An HTTP/protobuf receiver on `/v1/metrics`, gzip aware. */
export async function startHttpReceiver(): Promise<OtlpReceiver> {
  const requests: ReceivedResourceMetrics[][] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/metrics' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      requests.push(
        req.headers['content-type'] === 'application/json'
          ? decodeJsonMetricsRequest(body)
          : decodeMetricsRequest(body),
      );
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
