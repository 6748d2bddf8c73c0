import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { rawExportService } from './otlp-receiver.js';

/** A primitive attribute value as received. */
export type ReceivedValue = string | number | boolean;

/** One log record as received. */
export interface ReceivedLogRecord {
  readonly eventName: string | undefined;
  /** Nanoseconds since the epoch, as a decimal string (too big for a number). */
  readonly timeUnixNano?: string;
  readonly severityNumber: number;
  readonly severityText?: string;
  readonly body: ReceivedValue | undefined;
  readonly attributes: Record<string, ReceivedValue>;
  /** Attribute keys whose value was an int (asInt), to tell 2 from 2.0. */
  readonly intKeys: ReadonlySet<string>;
}

/** One resource's records from one request. */
export interface ReceivedResourceLogs {
  readonly resource: Record<string, ReceivedValue>;
  /** Name and version of each record's scope, in order. */
  readonly scopes: { name: string; version?: string }[];
  readonly records: ReceivedLogRecord[];
}

/** One request as the receiver saw it. */
export interface ReceivedLogsRequest {
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  /** Metadata (gRPC) or headers (HTTP), lower-case keys. */
  readonly headers: Record<string, string>;
  /** The decompressed body, to search for text that must never be sent. */
  readonly raw: Buffer;
  readonly resourceLogs: ReceivedResourceLogs[];
}

/** How the receiver answers. */
export type ReceiverMode =
  /** Takes every request. */
  | { readonly kind: 'ok' }
  /** Refuses every request: HTTP 503, gRPC UNAVAILABLE. The request is still recorded. */
  | { readonly kind: 'fail' }
  /** Answers after `ms` (never, for a large value). */
  | { readonly kind: 'slow'; readonly ms: number };

/** A running test receiver. */
export interface OtlpLogsReceiver {
  /** URL to give the exporter (gRPC: `http://127.0.0.1:port`; HTTP: `.../v1/logs`). */
  readonly url: string;
  readonly port: number;
  /** Requests taken (answered OK), oldest first. */
  readonly requests: ReceivedLogsRequest[];
  /** Requests refused or delayed while not `ok`. */
  readonly refused: number;
  /** Every record taken so far, across requests and resources. */
  records(): ReceivedLogRecord[];
  setMode(mode: ReceiverMode): void;
  close(): Promise<void>;
}

interface Decoder {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

interface WireReader {
  pos: number;
  len: number;
  uint32(): number;
  bytes(): Uint8Array;
  string(): string;
  skipType(wireType: number): unknown;
}

const require = createRequire(import.meta.url);
// otlp-transformer 0.57 still ships the protobufjs request types (see otlp-receiver.ts).
const root = require('otlp-decoder/build/src/generated/root') as {
  opentelemetry: {
    proto: { collector: { logs: { v1: { ExportLogsServiceRequest: Decoder } } } };
  };
};
const REQUEST = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
const { Reader } = require('protobufjs/minimal') as {
  Reader: { create(bytes: Uint8Array): WireReader };
};

type Json = Record<string, unknown>;

/** Decodes a protobuf ExportLogsServiceRequest. */
export function decodeLogsProtobuf(body: Uint8Array): ReceivedResourceLogs[] {
  const message = REQUEST.toObject(REQUEST.decode(body), {
    longs: String,
    enums: Number,
    bytes: String,
    defaults: false,
    arrays: true,
    oneofs: true,
  }) as Json;
  // The 0.57 types predate LogRecord.event_name (field 12): read it off the wire.
  return resourceLogsOf(message, eventNamesOf(body));
}

/** Decodes an OTLP/JSON ExportLogsServiceRequest (camelCase keys, hex ids). */
export function decodeLogsJson(body: Uint8Array): ReceivedResourceLogs[] {
  return resourceLogsOf(JSON.parse(Buffer.from(body).toString('utf8')) as Json);
}

function resourceLogsOf(message: Json, eventNames?: string[][][]): ReceivedResourceLogs[] {
  return ((message.resourceLogs as Json[] | undefined) ?? []).map((rl, r) => {
    const scopes: { name: string; version?: string }[] = [];
    const records: ReceivedLogRecord[] = [];
    ((rl.scopeLogs as Json[] | undefined) ?? []).forEach((sl, s) => {
      const scope = (sl.scope ?? {}) as Json;
      ((sl.logRecords as Json[] | undefined) ?? []).forEach((lr, l) => {
        scopes.push({
          name: typeof scope.name === 'string' ? scope.name : '',
          ...(typeof scope.version === 'string' ? { version: scope.version } : {}),
        });
        const { values, intKeys } = attributesOf(lr.attributes);
        const eventName =
          eventNames === undefined
            ? typeof lr.eventName === 'string' && lr.eventName !== ''
              ? lr.eventName
              : undefined
            : eventNames[r]?.[s]?.[l];
        records.push({
          eventName,
          ...(typeof lr.timeUnixNano === 'string' || typeof lr.timeUnixNano === 'number'
            ? { timeUnixNano: String(lr.timeUnixNano) }
            : {}),
          severityNumber: Number(lr.severityNumber ?? 0),
          ...(typeof lr.severityText === 'string' ? { severityText: lr.severityText } : {}),
          body: valueOf(lr.body),
          attributes: values,
          intKeys,
        });
      });
    });
    return {
      resource: attributesOf((rl.resource as Json | undefined)?.attributes).values,
      scopes,
      records,
    };
  });
}

function valueOf(raw: unknown): ReceivedValue | undefined {
  const v = (raw ?? {}) as Json;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  // OTLP/JSON may carry int64 as a string; protobufjs gives a string with longs: String.
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  return undefined;
}

function attributesOf(raw: unknown): {
  values: Record<string, ReceivedValue>;
  intKeys: Set<string>;
} {
  const values: Record<string, ReceivedValue> = {};
  const intKeys = new Set<string>();
  for (const kv of (raw as Json[] | undefined) ?? []) {
    const value = valueOf(kv.value);
    if (value === undefined) continue;
    values[String(kv.key)] = value;
    if ((kv.value as Json).intValue !== undefined) intKeys.add(String(kv.key));
  }
  return { values, intKeys };
}

/** event_name of each record, by resource, scope and record index, straight off the wire. */
function eventNamesOf(body: Uint8Array): string[][][] {
  const fields = (bytes: Uint8Array, wanted: number, read: (r: WireReader) => void): void => {
    const reader = Reader.create(bytes);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === wanted && (tag & 7) === 2) read(reader);
      else reader.skipType(tag & 7);
    }
  };
  const out: string[][][] = [];
  // ExportLogsServiceRequest.resource_logs = 1; ResourceLogs.scope_logs = 2;
  // ScopeLogs.log_records = 2; LogRecord.event_name = 12.
  fields(body, 1, (r) => {
    const scopes: string[][] = [];
    fields(r.bytes(), 2, (s) => {
      const names: string[] = [];
      fields(s.bytes(), 2, (l) => {
        let name = '';
        fields(l.bytes(), 12, (e) => {
          name = e.string();
        });
        names.push(name);
      });
      scopes.push(names);
    });
    out.push(scopes);
  });
  return out;
}

/** Shared bookkeeping of both receivers. */
class Recorder {
  readonly requests: ReceivedLogsRequest[] = [];
  refused = 0;
  mode: ReceiverMode = { kind: 'ok' };

  records(): ReceivedLogRecord[] {
    return this.requests.flatMap((q) => q.resourceLogs.flatMap((rl) => rl.records));
  }
}

/** An HTTP receiver on `/v1/logs` (protobuf or JSON by content type), gzip aware. */
export async function startHttpLogsReceiver(
  options: { port?: number } = {},
): Promise<OtlpLogsReceiver> {
  const rec = new Recorder();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/logs' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const mode = rec.mode;
      if (mode.kind === 'fail') {
        rec.refused += 1;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
        return;
      }
      const take = (): void => {
        let body = Buffer.concat(chunks);
        const encoding = req.headers['content-encoding'];
        if (encoding === 'gzip') body = gunzipSync(body);
        const contentType = req.headers['content-type'];
        const json = contentType?.includes('json') === true;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === 'string') headers[k] = v;
        }
        rec.requests.push({
          contentType,
          contentEncoding: encoding,
          headers,
          raw: body,
          resourceLogs: json ? decodeLogsJson(body) : decodeLogsProtobuf(body),
        });
        res
          .writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' })
          .end(json ? '{}' : undefined);
      };
      if (mode.kind === 'slow') {
        rec.refused += 1;
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) take();
        }, mode.ms);
        timers.add(timer);
        return;
      }
      take();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return handle(rec, `http://127.0.0.1:${port}/v1/logs`, port, async () => {
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

/** A gRPC receiver with the raw LogsService/Export method (decoded here). */
export async function startGrpcLogsReceiver(
  options: { port?: number } = {},
): Promise<OtlpLogsReceiver> {
  const rec = new Recorder();
  const timers = new Set<NodeJS.Timeout>();
  const server = new grpc.Server();
  server.addService(rawExportService('/opentelemetry.proto.collector.logs.v1.LogsService/Export'), {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      const mode = rec.mode;
      if (mode.kind === 'fail') {
        rec.refused += 1;
        done({ code: grpc.status.UNAVAILABLE, details: 'unavailable' }, null);
        return;
      }
      const take = (): void => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(call.metadata.getMap())) {
          if (typeof v === 'string') headers[k] = v;
        }
        rec.requests.push({
          contentType: 'application/grpc',
          contentEncoding: undefined,
          headers,
          raw: call.request,
          resourceLogs: decodeLogsProtobuf(call.request),
        });
        done(null, Buffer.alloc(0));
      };
      if (mode.kind === 'slow') {
        rec.refused += 1;
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!call.cancelled) take();
        }, mode.ms);
        timers.add(timer);
        return;
      }
      take();
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `127.0.0.1:${options.port ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (err, p) => (err === null ? resolve(p) : reject(err)),
    );
  });
  return handle(rec, `http://127.0.0.1:${port}`, port, () => {
    for (const t of timers) clearTimeout(t);
    server.forceShutdown();
    return Promise.resolve();
  });
}

/** The receiver's face over its recorder, whatever the transport. */
function handle(
  rec: Recorder,
  url: string,
  port: number,
  close: () => Promise<void>,
): OtlpLogsReceiver {
  return {
    url,
    port,
    requests: rec.requests,
    get refused() {
      return rec.refused;
    },
    records: () => rec.records(),
    setMode: (mode) => {
      rec.mode = mode;
    },
    close,
  };
}
