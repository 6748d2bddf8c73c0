import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import type { BatchBuffer } from './batch-buffer.js';
import type { PendingBatch } from './pending-batch.js';

interface SpoolEntry {
  readonly id: string;
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
}

// <sequence>-<rows>-<id>.json: order and size are known without reading the file.
const FILE_PATTERN = /^(\d{16})-(\d+)-([0-9a-f]+)\.json$/;

/**
 * A buffer on disk: one file per batch, written to a temporary name and renamed, so a crash
 * (even SIGKILL) leaves whole batches only, and a restart replays them. Bounded by bytes.
 */
export class SpoolBatchBuffer implements BatchBuffer {
  readonly durable = true;
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #logger: Logger;
  readonly #entries: SpoolEntry[] = [];
  #sequence = 0;
  #rows = 0;
  #bytes = 0;
  #dropped = 0;

  private constructor(dir: string, maxBytes: number, logger: Logger) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    this.#logger = logger;
  }

  /** Opens (creating) a spool directory and indexes the batches a previous run left. */
  static async open(dir: string, maxBytes: number, logger: Logger): Promise<SpoolBatchBuffer> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const spool = new SpoolBatchBuffer(dir, maxBytes, logger);
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const match = FILE_PATTERN.exec(name);
      if (match === null) {
        if (name.endsWith('.tmp')) await unlink(path.join(dir, name)).catch(() => undefined);
        continue;
      }
      const file = path.join(dir, name);
      const bytes = (await stat(file)).size;
      const rows = Number(match[2]);
      spool.#entries.push({ id: match[3] ?? '', file, rows, bytes });
      spool.#rows += rows;
      spool.#bytes += bytes;
      spool.#sequence = Math.max(spool.#sequence, Number(match[1]));
    }
    if (spool.#entries.length > 0) {
      logger.info('datastore spool has batches from an earlier run; replaying them', {
        batches: spool.#entries.length,
        rows: spool.#rows,
      });
    }
    return spool;
  }

  get batches(): number {
    return this.#entries.length;
  }

  get rows(): number {
    return this.#rows;
  }

  get droppedRows(): number {
    return this.#dropped;
  }

  async append(batch: PendingBatch): Promise<void> {
    this.#sequence++;
    const name = `${String(this.#sequence).padStart(16, '0')}-${batch.rows}-${batch.id}.json`;
    const file = path.join(this.#dir, name);
    const body = JSON.stringify(batch);
    await writeFile(`${file}.tmp`, body, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    const bytes = Buffer.byteLength(body);
    this.#entries.push({ id: batch.id, file, rows: batch.rows, bytes });
    this.#rows += batch.rows;
    this.#bytes += bytes;
    while (this.#bytes > this.#maxBytes && this.#entries.length > 1) {
      const oldest = this.#entries[0];
      if (oldest === undefined) break;
      await this.#discard(oldest);
      this.#dropped += oldest.rows;
    }
  }

  async oldest(maxRows: number): Promise<PendingBatch[]> {
    const out: PendingBatch[] = [];
    let rows = 0;
    for (const entry of [...this.#entries]) {
      if (out.length > 0 && rows + entry.rows > maxRows) break;
      let text: string;
      try {
        text = await readFile(entry.file, 'utf8');
      } catch (err) {
        // Gone (discarded meanwhile) is nothing to report; any other I/O error is retried by
        // the writer loop, never taken for corruption.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.#forget(entry);
          continue;
        }
        throw err;
      }
      try {
        out.push(JSON.parse(text) as PendingBatch);
        rows += entry.rows;
      } catch (err) {
        // Unreadable (edited or truncated by hand): keep it aside for a human, count its rows.
        this.#logger.error('unreadable datastore spool file set aside', {
          file: entry.file,
          err: (err as Error).message,
        });
        await rename(entry.file, `${entry.file}.corrupt`).catch(() => undefined);
        this.#forget(entry);
        this.#dropped += entry.rows;
      }
    }
    return out;
  }

  async remove(ids: readonly string[]): Promise<void> {
    const gone = new Set(ids);
    for (const entry of this.#entries.filter((e) => gone.has(e.id))) {
      await this.#discard(entry);
    }
  }

  async #discard(entry: SpoolEntry): Promise<void> {
    await unlink(entry.file).catch(() => undefined);
    this.#forget(entry);
  }

  #forget(entry: SpoolEntry): void {
    const index = this.#entries.indexOf(entry);
    if (index < 0) return;
    this.#entries.splice(index, 1);
    this.#rows -= entry.rows;
    this.#bytes -= entry.bytes;
  }
}
