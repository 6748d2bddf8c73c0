import type { QueryPerformanceSettings } from '../../core/config/query-performance-settings.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { BlockingSession } from '../../core/model/blocking-session.js';
import { redact } from '../../core/redact.js';
import type { DedicatedSession, TargetConnector } from '../../core/target-connector.js';
import { activityText } from '../query-text/activity-text.js';
import { ActivityTextMemo } from '../query-text/activity-text-memo.js';
import { activitySample, type ActivityRow } from './activity-sample.js';
import { AshRing } from './ash-ring.js';
import { ashSampleSql, blockingSql, TRACK_ACTIVITY_QUERY_SIZE_SQL } from './ash-sql.js';
import { blockingTree, type BlockingRow } from './blocking-tree.js';

export interface AshSamplerOptions {
  readonly target: string;
  readonly connector: TargetConnector;
  readonly settings: QueryPerformanceSettings;
  readonly logger: Logger;
  /** Whether anyone consumes samples on this target now; no query runs otherwise. */
  readonly wanted: () => boolean;
  /** Whether lock trees are wanted now. */
  readonly blockingWanted: () => boolean;
}

/** Edges kept between two reads of the blocking consumer. */
const MAX_HELD_EDGES = 10_000;
/** Longest pause between reconnection attempts while the server is down, ms. */
const MAX_RECONNECT_DELAY_MS = 30_000;
/** Raw texts remembered with what they became. */
const TEXT_MEMO_SIZE = 5_000;
/** Deadline of one lock-tree read, ms: it is rarer and joins more than a tick. */
const BLOCKING_TIMEOUT_MS = 2_000;

/**
 * Active Session History for one server: every `intervalMs` it reads pg_stat_activity on a
 * connection of its own (never queued behind collectors) and records the tick, even an empty
 * one, so an idle second and an outage differ. When a tick sees a session waiting on a lock,
 * and at most every `blocking.minIntervalMs`, it also reads who blocks whom.
 */
export class AshSampler {
  readonly ring: AshRing;
  readonly #opts: AshSamplerOptions;
  readonly #texts: ActivityTextMemo;
  #timer: NodeJS.Timeout | undefined;
  #session: DedicatedSession | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #failures = 0;
  #nextConnectAt = 0;
  #lastBlockingAt = 0;
  #edges: BlockingSession[] = [];
  #droppedEdges = 0;
  #trackActivityQuerySize: number | undefined;
  #warned = false;
  /** Ticks taken, for the benchmark and self-metrics. */
  ticks = 0;
  /** Sessions recorded. */
  samples = 0;

  constructor(options: AshSamplerOptions) {
    this.#opts = options;
    this.ring = new AshRing(options.settings.ash.bufferSessions);
    const { queryText, queryTextMaxLength } = options.settings;
    this.#texts = new ActivityTextMemo(TEXT_MEMO_SIZE, (raw) =>
      activityText(raw, {
        mode: queryText,
        maxLength: queryTextMaxLength,
        ...(this.#trackActivityQuerySize === undefined
          ? {}
          : { trackActivityQuerySize: this.#trackActivityQuerySize }),
      }),
    );
  }

  /** Whether any collector reads the samples now (ticks are no-ops otherwise). */
  get wanted(): boolean {
    return this.#opts.wanted();
  }

  get intervalMs(): number {
    return this.#opts.settings.ash.intervalMs;
  }

  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => this.#tick(), this.intervalMs);
    this.#timer.unref();
  }

  /** Takes one tick now (tests, and the one-shot mode's burst). */
  async tickNow(): Promise<void> {
    this.#tick();
    await this.#running;
  }

  /** Lock-tree edges seen since the last call. */
  takeBlockingEdges(): { edges: BlockingSession[]; dropped: number } {
    const out = { edges: this.#edges, dropped: this.#droppedEdges };
    this.#edges = [];
    this.#droppedEdges = 0;
    return out;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await this.#session?.close();
    this.#session = undefined;
  }

  #tick(): void {
    if (this.#stopped || !this.#opts.wanted()) return;
    const at = Date.now();
    if (this.#running !== undefined) {
      // Skipped, never queued: a slow server must not get a pile of catch-up reads.
      this.ring.push(at, 'skipped');
      return;
    }
    this.#running = this.#sample(at).finally(() => {
      this.#running = undefined;
    });
  }

  async #sample(at: number): Promise<void> {
    const seqBefore = this.ring.lastSeq;
    try {
      const session = await this.#connect(at);
      if (session === undefined) {
        this.ring.push(at, 'failed');
        return;
      }
      const rows = await session.query<ActivityRow & Record<string, unknown>>(
        ashSampleSql(session.facts),
        [this.#opts.settings.queryTextMaxLength],
        { timeoutMs: this.#opts.settings.ash.timeoutMs },
      );
      const sessions = rows.map((row) =>
        activitySample(row, this.intervalMs, this.#texts.get(row.query)),
      );
      this.ring.push(at, 'ok', sessions);
      this.ticks++;
      this.samples += sessions.length;
      this.#failures = 0;
      this.#warned = false;
      if (sessions.some((s) => s.waitEventType === 'Lock')) await this.#readBlocking(session, at);
    } catch (err) {
      if (this.ring.lastSeq === seqBefore + 1) {
        // The tick itself was read; only what followed it failed.
        this.#failed(err);
        return;
      }
      this.ring.push(at, 'failed');
      this.#failed(err);
    }
  }

  async #connect(at: number): Promise<DedicatedSession | undefined> {
    if (this.#session !== undefined && !this.#session.broken) return this.#session;
    if (this.#session !== undefined) {
      await this.#session.close();
      this.#session = undefined;
    }
    if (at < this.#nextConnectAt) return undefined;
    const connector = this.#opts.connector;
    if (connector.openDedicated === undefined) {
      throw new Error('this target has no sessions to sample');
    }
    let opened: DedicatedSession | undefined;
    try {
      opened = await connector.openDedicated();
      const size = await opened.query<{ size: string }>(TRACK_ACTIVITY_QUERY_SIZE_SQL);
      this.#trackActivityQuerySize = Number(size[0]?.size ?? 1024);
      this.#session = opened;
      return opened;
    } catch (err) {
      await opened?.close();
      this.#failed(err);
      this.#nextConnectAt =
        at + Math.min(MAX_RECONNECT_DELAY_MS, this.intervalMs * 2 ** Math.min(this.#failures, 10));
      return undefined;
    }
  }

  async #readBlocking(session: DedicatedSession, at: number): Promise<void> {
    if (!this.#opts.blockingWanted()) return;
    if (at - this.#lastBlockingAt < this.#opts.settings.blocking.minIntervalMs) return;
    this.#lastBlockingAt = at;
    const rows = await session.query<BlockingRow & Record<string, unknown>>(
      blockingSql(session.facts),
      [this.#opts.settings.blocking.maxRows, this.#opts.settings.queryTextMaxLength],
      { timeoutMs: BLOCKING_TIMEOUT_MS },
    );
    const edges = blockingTree(rows, (raw) => this.#texts.get(raw).text ?? '');
    const room = MAX_HELD_EDGES - this.#edges.length;
    this.#edges.push(...edges.slice(0, Math.max(0, room)));
    this.#droppedEdges += Math.max(0, edges.length - room);
  }

  #failed(err: unknown): void {
    this.#failures++;
    // Once per outage: a down server would otherwise log every second.
    if (!this.#warned) {
      this.#warned = true;
      this.#opts.logger.warn('session sampler cannot read the server, will keep trying', {
        target: this.#opts.target,
        err: redact(errorMessage(err)),
      });
    }
    if (this.#session !== undefined && this.#session.broken) {
      const broken = this.#session;
      this.#session = undefined;
      void broken.close();
    }
  }
}
