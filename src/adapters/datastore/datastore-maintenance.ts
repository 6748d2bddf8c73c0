import type pg from 'pg';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ProbeSchema } from '../../core/probe-schema.js';
import { redact } from '../../core/redact.js';
import { collectGarbage } from './garbage-collector.js';
import type { PartitionManager } from './partitions.js';

const DAY_MS = 86_400_000;

export interface MaintenanceOptions {
  readonly pool: pg.Pool;
  readonly partitions: PartitionManager;
  readonly schemas: readonly ProbeSchema[];
  readonly logger: Logger;
  readonly configuredRetentionDays?: (probe: string) => number | undefined;
  /** First GC after start, ms (5 minutes: a restart loop does not hammer the datastore). */
  readonly firstGcAfterMs?: number;
  /** Between GC passes and partition pre-creation, ms. */
  readonly everyMs?: number;
}

/**
 * The datastore's housekeeping: next week's partitions created ahead, and GC, first 5 minutes
 * after start and then daily. Failures are logged and counted; the next pass tries again.
 */
export class DatastoreMaintenance {
  readonly #opts: MaintenanceOptions;
  #timer: NodeJS.Timeout | undefined;
  failures = 0;
  passes = 0;

  constructor(options: MaintenanceOptions) {
    this.#opts = options;
  }

  /** Creates partitions ahead now and schedules the periodic passes. */
  async start(): Promise<void> {
    await this.#opts.partitions.ensureAhead(
      this.#opts.schemas.map((s) => s.name),
      new Date(),
    );
    this.#schedule(this.#opts.firstGcAfterMs ?? 5 * 60_000);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      void this.#pass().finally(() => {
        if (this.#timer !== undefined) this.#schedule(this.#opts.everyMs ?? DAY_MS);
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    try {
      await this.#opts.partitions.ensureAhead(
        this.#opts.schemas.map((s) => s.name),
        new Date(),
      );
      const result = await collectGarbage(this.#opts.pool, {
        schemas: this.#opts.schemas,
        ...(this.#opts.configuredRetentionDays === undefined
          ? {}
          : { configuredRetentionDays: this.#opts.configuredRetentionDays }),
      });
      for (const name of result.dropped) this.#opts.partitions.forget(name);
      this.passes++;
      this.#opts.logger.info('datastore garbage collection done', {
        droppedPartitions: result.dropped.length,
        keptLatestSnapshots: result.protected.length,
      });
    } catch (err) {
      this.failures++;
      this.#opts.logger.warn('datastore garbage collection failed; retrying next pass', {
        err: redact(errorMessage(err)),
      });
    }
  }
}
