import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ProbeSample } from '../../core/model/probe-sample.js';
import type { ProbeSchema } from '../../core/probe-schema.js';
import { COPY_NULL, fieldEncoder, type FieldEncoder } from './copy-text.js';
import { RESERVED_COLUMNS, storedColumns, type StoredColumn } from './metrics-tables.js';
import { PartitionManager } from './partitions.js';
import { contentHash, type PendingBatch } from './pending-batch.js';
import { ident, metricsTable } from './sql-ident.js';

const CONNECTION_ID_TTL_MS = 60_000;

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

/** How a probe's rows become COPY text, chosen once per probe. */
interface TableCopy {
  /** The COPY statement, every stored column in order. */
  readonly sql: string;
  /** Reserved columns first (`storedColumns` puts them there), filled from the sample. */
  readonly reserved: readonly StoredColumn[];
  /** The probe's own columns, each with the encoder of its type. */
  readonly fields: readonly { readonly name: string; readonly encode: FieldEncoder }[];
}

/** The samples one COPY will store, encoded only while the COPY runs. */
interface TableRows {
  readonly copy: TableCopy;
  readonly samples: { readonly sample: ProbeSample; readonly connectionId: number }[];
  rows: number;
}

interface Coerced {
  count: number;
}

/** COPY data is sent in chunks of about this many characters, so COPY sees few large writes. */
const CHUNK_CHARS = 65_536;

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
  readonly #copies = new Map<string, TableCopy>();
  // Ids by name, looked up again after a while: a connection removed and added again (or
  // renamed) gets a new id, and rows must follow it.
  readonly #connectionIds = new Map<string, { readonly id: number; readonly at: number }>();
  readonly partitions: PartitionManager;

  constructor(options: DatastoreWriterOptions) {
    this.#opts = options;
    this.#schemas = new Map(options.schemas.map((s) => [s.name, s]));
    for (const schema of options.schemas) {
      this.#copies.set(schema.name, tableCopy(schema.name, storedColumns(schema)));
    }
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

    let failure: unknown;
    const client = await this.#opts.pool.connect();
    try {
      await client.query('BEGIN');
      const fresh = await client.query<{ batch_id: string }>(
        `INSERT INTO public.ingested_batches (batch_id) SELECT unnest($1::text[])
         ON CONFLICT DO NOTHING RETURNING batch_id`,
        [batches.map((b) => b.id)],
      );
      const freshIds = new Set(fresh.rows.map((r) => r.batch_id));
      const tables = new Map<string, TableRows>();
      const tracked: TrackedSample[] = [];
      const coerced: Coerced = { count: 0 };
      for (const batch of batches) {
        if (!freshIds.has(batch.id)) continue;
        const connectionId = ids.get(batch.target.name) ?? 0;
        for (const sample of batch.probes) {
          const schema = this.#schemas.get(sample.probe);
          const copy = this.#copies.get(sample.probe);
          if (schema === undefined || copy === undefined) {
            unknownSamples++;
            continue;
          }
          if (schema.changeTracked) {
            tracked.push({ connectionId, sample, hash: contentHash(sample) });
            continue;
          }
          addSample(tables, sample, copy, connectionId);
        }
      }
      const unchangedSamples = await this.#filterUnchanged(client, tracked, tables);
      let rows = 0;
      for (const table of tables.values()) {
        if (table.rows === 0) continue;
        rows += table.rows;
        // Rows are encoded chunk by chunk as the server takes them: Node encodes while the server
        // parses, and never holds more than a few chunks.
        const stream = client.query(copyFrom(table.copy.sql));
        await pipeline(Readable.from(copyChunks(table, coerced)), stream);
      }
      await client.query('COMMIT');
      return {
        rows,
        duplicateBatches: given.length - freshIds.size,
        unchangedSamples,
        coercedValues: coerced.count,
        unknownSamples,
      };
    } catch (err) {
      failure = err;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // A connection that failed mid-transaction (or mid-COPY) is not trusted again.
      client.release(failure === undefined ? undefined : (failure as Error));
    }
  }

  /** Keeps only change-tracked samples whose content differs from the last stored one. */
  async #filterUnchanged(
    client: pg.PoolClient,
    tracked: readonly TrackedSample[],
    tables: Map<string, TableRows>,
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
      const copy = this.#copies.get(sample.probe);
      if (copy !== undefined) addSample(tables, sample, copy, connectionId);
    }
    return unchanged;
  }

  /** The connection id of a target, registering configuration-file targets on first sight. */
  async #connectionId(target: PendingBatch['target']): Promise<number> {
    const known = this.#connectionIds.get(target.name);
    if (known !== undefined && Date.now() - known.at < CONNECTION_ID_TTL_MS) return known.id;
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
    this.#connectionIds.set(target.name, { id, at: Date.now() });
    return id;
  }
}

function tableCopy(table: string, columns: readonly StoredColumn[]): TableCopy {
  const reserved = columns.filter((c) => (RESERVED_COLUMNS as readonly string[]).includes(c.name));
  const own = columns.slice(reserved.length);
  if (own.some((c) => (RESERVED_COLUMNS as readonly string[]).includes(c.name))) {
    throw new Error(`probe ${table}: reserved columns must come first`);
  }
  return {
    sql: `COPY ${metricsTable(table)} (${columns.map((c) => ident(c.name)).join(', ')}) FROM STDIN`,
    reserved,
    fields: own.map((c) => ({ name: c.name, encode: fieldEncoder(c.type) })),
  };
}

const encodeText = fieldEncoder('text');
const encodeTimestamp = fieldEncoder('timestamptz');

function addSample(
  tables: Map<string, TableRows>,
  sample: ProbeSample,
  copy: TableCopy,
  connectionId: number,
): void {
  let entry = tables.get(sample.probe);
  if (entry === undefined) {
    entry = { copy, samples: [], rows: 0 };
    tables.set(sample.probe, entry);
  }
  entry.samples.push({ sample, connectionId });
  entry.rows += sample.rows.length;
}

/** The COPY text of a table's samples, in chunks of about `CHUNK_CHARS`, encoded on demand. */
function* copyChunks(table: TableRows, coerced: Coerced): Generator<string> {
  const { reserved, fields } = table.copy;
  let chunk = '';
  for (const { sample, connectionId } of table.samples) {
    if (sample.rows.length === 0) continue;
    // The reserved columns are the same in every row of a sample: encoded once, counted per row.
    let prefixCoerced = 0;
    const prefix = reserved
      .map(({ name }) => {
        const field =
          name === 'connection_id'
            ? String(connectionId)
            : name === 'database_name'
              ? encodeText(sample.database ?? '')
              : encodeTimestamp(sample.collectedAt);
        if (field !== undefined) return field;
        prefixCoerced++;
        return COPY_NULL;
      })
      .join('\t');
    coerced.count += prefixCoerced * sample.rows.length;
    for (const row of sample.rows) {
      chunk += prefix;
      for (const { name, encode } of fields) {
        const field = encode(row[name]);
        if (field === undefined) {
          coerced.count++;
          chunk += '\t\\N';
        } else {
          chunk += `\t${field}`;
        }
      }
      chunk += '\n';
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
  }
  if (chunk !== '') yield chunk;
}
