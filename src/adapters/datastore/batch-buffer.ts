import type { PendingBatch } from './pending-batch.js';

/**
 * Where batches wait for the datastore. Bounded: when full, the oldest batches are dropped and
 * their rows counted, so an outage longer than the buffer costs the oldest history, never
 * memory or disk without limit.
 */
export interface BatchBuffer {
  /** Keeps a batch until it is removed. */
  append(batch: PendingBatch): Promise<void>;
  /** The oldest batches, up to about `maxRows` rows (at least one batch when not empty). */
  oldest(maxRows: number): Promise<PendingBatch[]>;
  /** Forgets batches that were written. */
  remove(ids: readonly string[]): Promise<void>;
  /** Batches waiting. */
  readonly batches: number;
  /** Rows waiting. */
  readonly rows: number;
  /** Rows dropped because the buffer was full (or a spool file was unreadable). */
  readonly droppedRows: number;
  /** Whether waiting batches survive a restart. */
  readonly durable: boolean;
}

/** A buffer in memory, bounded by rows; lost on restart. */
export class MemoryBatchBuffer implements BatchBuffer {
  readonly durable = false;
  readonly #maxRows: number;
  readonly #queue: PendingBatch[] = [];
  #rows = 0;
  #dropped = 0;

  constructor(maxRows: number) {
    this.#maxRows = maxRows;
  }

  get batches(): number {
    return this.#queue.length;
  }

  get rows(): number {
    return this.#rows;
  }

  get droppedRows(): number {
    return this.#dropped;
  }

  append(batch: PendingBatch): Promise<void> {
    this.#queue.push(batch);
    this.#rows += batch.rows;
    while (this.#rows > this.#maxRows && this.#queue.length > 1) {
      const dropped = this.#queue.shift();
      if (dropped === undefined) break;
      this.#rows -= dropped.rows;
      this.#dropped += dropped.rows;
    }
    return Promise.resolve();
  }

  oldest(maxRows: number): Promise<PendingBatch[]> {
    const out: PendingBatch[] = [];
    let rows = 0;
    for (const batch of this.#queue) {
      if (out.length > 0 && rows + batch.rows > maxRows) break;
      out.push(batch);
      rows += batch.rows;
    }
    return Promise.resolve(out);
  }

  remove(ids: readonly string[]): Promise<void> {
    const gone = new Set(ids);
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const batch = this.#queue[i];
      if (batch !== undefined && gone.has(batch.id)) {
        this.#queue.splice(i, 1);
        this.#rows -= batch.rows;
      }
    }
    return Promise.resolve();
  }
}
