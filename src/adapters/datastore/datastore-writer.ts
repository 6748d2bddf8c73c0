import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ProbeSample } from '../../core/model/probe-sample.js';
import type { ProbeSchema } from '../../core/probe-schema.js';
import { copyField } from './copy-text.js';
import { storedColumns, type StoredColumn } from './metrics-tables.js';
import { PartitionManager } from './partitions.js';
import { contentHash, type PendingBatch } from './pending-batch.js';
import { ident, metricsTable } from './sql-ident.js';

/** What one write stored. */
export interface WriteResult {
  /** Rows written to metrics tables. */
  readonly rows: number;
  /** Batches skipped because they were stored before (replay, repeated load). */
  readonly duplicateBatches: number;
  /** Samples of change-tracked probes skipped because nothing changed. */
  readonly unchangedSamples: number;
  /** Values that did not fit their column and were stored as NULL. */
  readonly coercedValues: number;
  /** Samples of probes the datastore has no table for. */
  readonly unknownSamples: number;
}

export interface DatastoreWriterOptions {
  readonly pool: pg.Pool;
  readonly schemas: readonly ProbeSchema[];
  /** Owner recorded on connections registered for configuration-file targets. */
  readonly owner: string;
}

interface TableLines {
  readonly columns: StoredColumn[];
  readonly lines: string[];
}

interface TrackedSample {
  readonly connectionId: number;
  readonly sample: ProbeSample;
  readonly hash: string;
}

/**
 * Writes pending batches in one transaction: COPY per metrics table across every target, the
 * batches' ids into the ingest ledger (so a replay stores nothing twice) and change-tracking
 * hashes. All or nothing, so a failed write can simply be retried.
 */
export class DatastoreWriter {
  readonly #opts: DatastoreWriterOptions;
  readonly #schemas: Map<string, ProbeSchema>;
  readonly #columns = new Map<string, StoredColumn[]>();
  readonly #connectionIds = new Map<string, number>();
  readonly partitions: PartitionManager;

  constructor(options: DatastoreWriterOptions) {
    this.#opts = options;
    this.#schemas = new Map(options.schemas.map((s) => [s.name, s]));
    for (const schema of options.schemas) this.#columns.set(schema.name, storedColumns(schema));
    this.partitions = new PartitionManager(options.pool);
  }

  async write(given: readonly PendingBatch[]): Promise<WriteResult> {
    // The same batch twice in one write (a file loaded twice) is stored once, like across writes.
    const batches = [...new Map(given.map((b) => [b.id, b])).values()];
    let unknownSamples = 0;
    for (const batch of batches) {
      for (const sample of batch.probes) {
        if (this.#schemas.has(sample.probe)) {
          await this.partitions.ensure(sample.probe, new Date(sample.collectedAt));
        }
      }
    }
    const ids = new Map<string, number>();
    for (const batch of batches) {
      ids.set(batch.target.name, await this.#connectionId(batch.target));
    }

    const client = await this.#opts.pool.connect();
    try {
      await client.query('BEGIN');
      const fresh = await client.query<{ batch_id: string }>(
        `INSERT INTO public.ingested_batches (batch_id) SELECT unnest($1::text[])
         ON CONFLICT DO NOTHING RETURNING batch_id`,
        [batches.map((b) => b.id)],
      );
      const freshIds = new Set(fresh.rows.map((r) => r.batch_id));
      const tables = new Map<string, TableLines>();
      const tracked: TrackedSample[] = [];
      let coercedValues = 0;
      const onCoerce = (): void => {
        coercedValues++;
      };
      for (const batch of batches) {
        if (!freshIds.has(batch.id)) continue;
        const connectionId = ids.get(batch.target.name) ?? 0;
        for (const sample of batch.probes) {
          const schema = this.#schemas.get(sample.probe);
          const columns = this.#columns.get(sample.probe);
          if (schema === undefined || columns === undefined) {
            unknownSamples++;
            continue;
          }
          if (schema.changeTracked) {
            tracked.push({ connectionId, sample, hash: contentHash(sample) });
            continue;
          }
          appendLines(tables, sample, columns, connectionId, onCoerce);
        }
      }
      const unchangedSamples = await this.#filterUnchanged(client, tracked, tables, onCoerce);
      let rows = 0;
      for (const [table, { columns, lines }] of tables) {
        if (lines.length === 0) continue;
        rows += lines.length;
        const stream = client.query(
          copyFrom(
            `COPY ${metricsTable(table)} (${columns.map((c) => ident(c.name)).join(', ')}) FROM STDIN`,
          ),
        );
        await pipeline(Readable.from(chunks(lines)), stream);
      }
      await client.query('COMMIT');
      return {
        rows,
        duplicateBatches: given.length - freshIds.size,
        unchangedSamples,
        coercedValues,
        unknownSamples,
      };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Keeps only change-tracked samples whose content differs from the last stored one. */
  async #filterUnchanged(
    client: pg.PoolClient,
    tracked: readonly TrackedSample[],
    tables: Map<string, TableLines>,
    onCoerce: () => void,
  ): Promise<number> {
    let unchanged = 0;
    // Oldest first, so within one write the later sample is compared with the earlier one.
    const ordered = [...tracked].sort((a, b) =>
      a.sample.collectedAt.localeCompare(b.sample.collectedAt),
    );
    for (const { connectionId, sample, hash } of ordered) {
      const database = sample.database ?? '';
      const last = await client.query<{ content_hash: string }>(
        `SELECT content_hash FROM public.change_tracking
          WHERE connection_id = $1 AND probe = $2 AND database_name = $3 FOR UPDATE`,
        [connectionId, sample.probe, database],
      );
      if (last.rows[0]?.content_hash === hash) {
        unchanged++;
        continue;
      }
      await client.query(
        `INSERT INTO public.change_tracking
           (connection_id, probe, database_name, content_hash, collected_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (connection_id, probe, database_name)
         DO UPDATE SET content_hash = EXCLUDED.content_hash, collected_at = EXCLUDED.collected_at`,
        [connectionId, sample.probe, database, hash, sample.collectedAt],
      );
      const columns = this.#columns.get(sample.probe);
      if (columns !== undefined) appendLines(tables, sample, columns, connectionId, onCoerce);
    }
    return unchanged;
  }

  /** The connection id of a target, registering configuration-file targets on first sight. */
  async #connectionId(target: PendingBatch['target']): Promise<number> {
    const known = this.#connectionIds.get(target.name);
    if (known !== undefined) return known;
    const result = await this.#opts.pool.query<{ id: number }>(
      `WITH registered AS (
         INSERT INTO public.connections (name, host, port, owner_username, source, labels)
         VALUES ($1, $2, $3, $4, 'config', $5)
         ON CONFLICT (name) DO NOTHING
         RETURNING id)
       SELECT id FROM registered
       UNION ALL
       SELECT id FROM public.connections WHERE name = $1
       LIMIT 1`,
      [target.name, target.host, target.port, this.#opts.owner, JSON.stringify(target.labels)],
    );
    const id = result.rows[0]?.id;
    if (id === undefined) throw new Error(`could not register connection ${target.name}`);
    this.#connectionIds.set(target.name, id);
    return id;
  }
}

function appendLines(
  tables: Map<string, TableLines>,
  sample: ProbeSample,
  columns: StoredColumn[],
  connectionId: number,
  onCoerce: () => void,
): void {
  let entry = tables.get(sample.probe);
  if (entry === undefined) {
    entry = { columns, lines: [] };
    tables.set(sample.probe, entry);
  }
  for (const row of sample.rows) {
    const fields = columns.map((column) => {
      switch (column.name) {
        case 'connection_id':
          return String(connectionId);
        case 'database_name':
          return copyField(sample.database ?? '', 'text', onCoerce);
        case 'collected_at':
          return copyField(sample.collectedAt, 'timestamptz', onCoerce);
        default:
          return copyField(row[column.name], column.type, onCoerce);
      }
    });
    entry.lines.push(`${fields.join('\t')}\n`);
  }
}

/** Lines grouped into chunks of about 64 KiB, so COPY sees few large writes. */
function* chunks(lines: readonly string[]): Generator<string> {
  let chunk = '';
  for (const line of lines) {
    chunk += line;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}
