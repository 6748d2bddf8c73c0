import * as grpc from '@grpc/grpc-js';
import { METRICS_REQUEST, rawExportService } from '../../helpers/otlp-receiver.js';

/** One data point with what reset detection needs: its start time and its value's wire type. */
export interface TimedPoint {
  readonly resource: string;
  readonly metric: string;
  readonly kind: 'gauge' | 'sum' | 'other';
  readonly monotonic: boolean;
  readonly cumulative: boolean;
  readonly attributes: Record<string, string | number | boolean>;
  /** Nanoseconds since the epoch, as decimal strings (beyond a double's precision). */
  readonly startTimeUnixNano: string;
  readonly timeUnixNano: string;
  readonly valueType: 'int' | 'double' | 'none';
  readonly value: number;
}

type Json = Record<string, unknown>;

/** A fixed64 decoded with `longs: String`: a decimal string, '0' when absent. */
function nanos(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '0';
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

/** Every data point of one ExportMetricsServiceRequest (int64 kept as strings, then checked). */
export function decodeTimedPoints(body: Uint8Array): TimedPoint[] {
  const message = METRICS_REQUEST.toObject(METRICS_REQUEST.decode(body), {
    longs: String,
    enums: Number,
    defaults: false,
    arrays: true,
    oneofs: true,
  }) as { resourceMetrics?: Json[] };
  const points: TimedPoint[] = [];
  for (const rm of message.resourceMetrics ?? []) {
    const resource = JSON.stringify(
      Object.entries(attributesOf((rm.resource as Json | undefined)?.attributes)).sort(),
    );
    for (const sm of (rm.scopeMetrics as Json[] | undefined) ?? []) {
      for (const m of (sm.metrics as Json[] | undefined) ?? []) {
        const sum = m.sum as Json | undefined;
        const gauge = m.gauge as Json | undefined;
        const kind = sum !== undefined ? 'sum' : gauge !== undefined ? 'gauge' : 'other';
        const raw = ((sum ?? gauge)?.dataPoints as Json[] | undefined) ?? [];
        for (const p of raw) {
          const valueType =
            p.asInt !== undefined ? 'int' : p.asDouble !== undefined ? 'double' : 'none';
          points.push({
            resource,
            metric: String(m.name),
            kind,
            monotonic: sum?.isMonotonic === true,
            // AGGREGATION_TEMPORALITY_CUMULATIVE = 2.
            cumulative: sum?.aggregationTemporality === 2,
            attributes: attributesOf(p.attributes),
            startTimeUnixNano: nanos(p.startTimeUnixNano),
            timeUnixNano: nanos(p.timeUnixNano),
            valueType,
            value: Number(p.asInt ?? p.asDouble ?? Number.NaN),
          });
        }
      }
    }
  }
  return points;
}

export interface TimedReceiver {
  readonly url: string;
  readonly points: TimedPoint[];
  /** Requests that did not decode. */
  readonly undecodable: string[];
  requests: number;
  close(): Promise<void>;
}

/** A gRPC metrics receiver that keeps every point with its times. */
export async function startTimedMetricsReceiver(): Promise<TimedReceiver> {
  const state: TimedReceiver = {
    url: '',
    points: [],
    undecodable: [],
    requests: 0,
    close: () => Promise.resolve(),
  };
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService(
    rawExportService('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'),
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
        state.requests += 1;
        try {
          state.points.push(...decodeTimedPoints(call.request));
        } catch (err) {
          state.undecodable.push(err instanceof Error ? err.message : String(err));
        }
        done(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err === null ? resolve(p) : reject(err),
    );
  });
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.forceShutdown();
      return Promise.resolve();
    },
  });
}

/**
 * What a backend would misread: a value that is not a finite number, an int point that is not
 * an integer, a negative monotonic counter, and a cumulative monotonic series whose value falls
 * without a new start time (a reset the exporter did not signal).
 */
export function pointProblems(points: readonly TimedPoint[]): string[] {
  const problems: string[] = [];
  const series = new Map<string, TimedPoint[]>();
  for (const p of points) {
    const where = `${p.metric} ${JSON.stringify(p.attributes)}`;
    if (p.valueType === 'none') problems.push(`${where}: no value`);
    else if (!Number.isFinite(p.value)) problems.push(`${where}: value ${p.value}`);
    else if (p.valueType === 'int' && !Number.isInteger(p.value))
      problems.push(`${where}: int ${p.value}`);
    if (p.kind === 'sum' && p.monotonic && p.value < 0)
      problems.push(`${where}: negative counter ${p.value}`);
    if (p.kind === 'sum' && p.monotonic && p.cumulative) {
      const key = `${p.resource}|${p.metric}|${JSON.stringify(Object.entries(p.attributes).sort())}`;
      const list = series.get(key);
      if (list === undefined) series.set(key, [p]);
      else list.push(p);
    }
  }
  for (const list of series.values()) {
    list.sort((a, b) => (BigInt(a.timeUnixNano) < BigInt(b.timeUnixNano) ? -1 : 1));
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1] as TimedPoint;
      const now = list[i] as TimedPoint;
      if (now.value < before.value && now.startTimeUnixNano === before.startTimeUnixNano) {
        problems.push(
          `${now.metric} ${JSON.stringify(now.attributes)}: fell from ${before.value} to ${now.value} with the same start time`,
        );
      }
    }
  }
  return problems;
}

/** How many monotonic cumulative series restarted (a new start time with a lower value). */
export function signalledResets(points: readonly TimedPoint[]): number {
  const last = new Map<string, TimedPoint>();
  let resets = 0;
  const ordered = [...points].sort((a, b) =>
    BigInt(a.timeUnixNano) < BigInt(b.timeUnixNano) ? -1 : 1,
  );
  for (const p of ordered) {
    if (!(p.kind === 'sum' && p.monotonic && p.cumulative)) continue;
    const key = `${p.resource}|${p.metric}|${JSON.stringify(Object.entries(p.attributes).sort())}`;
    const before = last.get(key);
    if (
      before !== undefined &&
      p.startTimeUnixNano !== before.startTimeUnixNano &&
      p.value < before.value
    )
      resets += 1;
    last.set(key, p);
  }
  return resets;
}
