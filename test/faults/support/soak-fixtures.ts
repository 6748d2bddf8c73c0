import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { EmbeddedServer } from '../../../src/cli/embedded/embedded-server.js';
import { silentLogger } from '../../../src/core/logger.js';
import { sleep } from '../../../src/core/timeout.js';
import { rawExportService } from '../../helpers/otlp-receiver.js';

/** One monitored database and the server it lives on. */
export interface SoakTarget {
  readonly name: string;
  readonly url: string;
  readonly database: string;
}

/** Starts `servers` embedded servers and `perServer` databases on each, with a small table. */
export async function startSoakServers(
  servers: number,
  perServer: number,
): Promise<{ servers: EmbeddedServer[]; targets: SoakTarget[] }> {
  const started: EmbeddedServer[] = [];
  const targets: SoakTarget[] = [];
  try {
    for (let s = 0; s < servers; s++) {
      const server = await EmbeddedServer.start({ logger: silentLogger });
      started.push(server);
      const admin = new pg.Client({ connectionString: server.url() });
      await admin.connect();
      try {
        for (let d = 0; d < perServer; d++) {
          const database = `soak_${d}`;
          await admin.query(`CREATE DATABASE ${database}`);
          targets.push({ name: `soak-${s}-${d}`, url: server.url(database), database });
        }
      } finally {
        await admin.end();
      }
      for (let d = 0; d < perServer; d++) {
        const db = new pg.Client({ connectionString: server.url(`soak_${d}`) });
        await db.connect();
        try {
          await db.query(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            CREATE TABLE soak_t (id int PRIMARY KEY, v bigint NOT NULL DEFAULT 0, note text);
            CREATE INDEX soak_t_v ON soak_t (v);
            INSERT INTO soak_t (id, note) SELECT g, 'row ' || g FROM generate_series(1, 500) g;`);
        } finally {
          await db.end();
        }
      }
    }
  } catch (err) {
    for (const server of started) await server.stop();
    throw err;
  }
  return { servers: started, targets };
}

/**
 * One client per database: a short sleep (so the session sampler sees active sessions), an
 * update, a read, then a pause. Light, so the collector, not the workload, is what is measured.
 */
export class SoakWorkload {
  #running = true;
  readonly #loops: Promise<void>[] = [];
  errors = 0;

  constructor(private readonly targets: readonly SoakTarget[]) {}

  start(): void {
    for (const t of this.targets) this.#loops.push(this.#loop(t.url));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  async #loop(url: string): Promise<void> {
    let i = 0;
    while (this.#running) {
      const client = new pg.Client({ connectionString: url, application_name: 'soak-workload' });
      try {
        await client.connect();
        while (this.#running) {
          i += 1;
          await client.query('SELECT pg_sleep(0.2)');
          await client.query('UPDATE soak_t SET v = v + 1 WHERE id = $1', [(i % 500) + 1]);
          await client.query('SELECT count(*), max(v) FROM soak_t WHERE note LIKE $1', [
            `row ${i % 9}%`,
          ]);
          await sleep(400);
        }
      } catch {
        this.errors += 1;
        await sleep(1_000);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }
}

/** A gRPC OTLP receiver (metrics and logs services) that only counts requests and bytes. */
export interface CountingReceiver {
  readonly url: string;
  /** All requests and bytes, and the requests of each service. */
  readonly counts: { requests: number; bytes: number; metrics: number; logs: number };
  close(): Promise<void>;
}

export async function startCountingReceiver(): Promise<CountingReceiver> {
  const counts = { requests: 0, bytes: 0, metrics: 0, logs: 0 };
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const handler = (service: 'metrics' | 'logs') => ({
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      counts.requests += 1;
      counts[service] += 1;
      counts.bytes += call.request.length;
      done(null, Buffer.alloc(0));
    },
  });
  server.addService(
    rawExportService('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'),
    handler('metrics'),
  );
  server.addService(
    rawExportService('/opentelemetry.proto.collector.logs.v1.LogsService/Export'),
    handler('logs'),
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err === null ? resolve(p) : reject(err),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () => {
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
