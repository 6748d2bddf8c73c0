import type { AshSample } from '../../core/model/ash-sample.js';

/** How a tick went: read the server, failed, or not taken because the last one still ran. */
export type TickStatus = 'ok' | 'failed' | 'skipped';

/** One sampler tick: its heartbeat, and the sessions it saw. */
export interface AshTick {
  /** Increasing per sampler; consumers remember the last one they read. */
  readonly seq: number;
  /** When the tick was due (epoch ms). */
  readonly at: number;
  readonly status: TickStatus;
  readonly sessions: readonly AshSample[];
}

/** What a consumer gets: the ticks it has not read, and whether older ones were lost. */
export interface AshRead {
  readonly ticks: readonly AshTick[];
  /** Ticks evicted before this consumer read them (the buffer was full). */
  readonly lostTicks: number;
}

/**
 * Ticks of one server, bounded by the number of sessions they hold (an idle tick costs almost
 * nothing; a busy one holds its sessions). Several consumers read it, each from its own cursor,
 * so one consumer's cadence never hides ticks from another.
 */
export class AshRing {
  readonly #maxSessions: number;
  readonly #ticks: AshTick[] = [];
  #head = 0;
  #sessions = 0;
  #nextSeq = 1;
  /** Consumer → last tick read and when (epoch ms). */
  readonly #cursors = new Map<string, { seq: number; readAt: number }>();
  readonly #staleMs: number;

  /**
   * `staleMs`: a consumer that has not read for this long (disabled since) stops holding ticks
   * back; its next read reports what it lost.
   */
  constructor(maxSessions: number, staleMs = 10 * 60_000) {
    this.#maxSessions = maxSessions;
    this.#staleMs = staleMs;
  }

  /** Ticks held now. */
  get size(): number {
    return this.#ticks.length - this.#head;
  }

  /**
   * Ticks still referenced: those held plus dropped ones not yet compacted away. Memory follows
   * this, not `size`.
   */
  get retained(): number {
    return this.#ticks.length;
  }

  /** Sequence number of the newest tick, 0 before the first. */
  get lastSeq(): number {
    return this.#nextSeq - 1;
  }

  /** Sessions held now. */
  get sessions(): number {
    return this.#sessions;
  }

  push(at: number, status: TickStatus, sessions: readonly AshSample[] = []): void {
    this.#ticks.push({ seq: this.#nextSeq++, at, status, sessions });
    this.#sessions += sessions.length;
    // A heartbeat-only tick is kept even when full: it is what tells idle from outage.
    while (this.#sessions > this.#maxSessions && this.size > 1) {
      const oldest = this.#ticks[this.#head];
      if (oldest === undefined) break;
      this.#sessions -= oldest.sessions.length;
      this.#head++;
    }
    this.#dropUnwanted();
    this.#compact();
  }

  /**
   * Ticks after `consumer`'s cursor, moving it to the newest. A consumer's first read gets
   * every tick held, so a collector that starts after the sampler still sees its first window.
   */
  read(consumer: string, now = Date.now()): AshRead {
    const after = this.#cursors.get(consumer)?.seq ?? 0;
    const held = this.#ticks.slice(this.#head);
    const ticks = held.filter((t) => t.seq > after);
    const firstHeld = held[0]?.seq ?? this.#nextSeq;
    const lostTicks = after === 0 ? 0 : Math.max(0, firstHeld - after - 1);
    this.#cursors.set(consumer, { seq: this.#nextSeq - 1, readAt: now });
    this.#dropUnwanted(now);
    this.#compact();
    return { ticks, lostTicks };
  }

  /**
   * Registers consumers before their first read, so a tick one of them has read is kept for
   * the others; a consumer that never reads stops counting once it is stale.
   */
  subscribe(consumers: readonly string[], now = Date.now()): void {
    for (const consumer of consumers) {
      if (!this.#cursors.has(consumer)) {
        this.#cursors.set(consumer, { seq: this.#nextSeq - 1, readAt: now });
      }
    }
  }

  /** Ticks every active consumer has read are dropped: memory follows the slowest reader. */
  #dropUnwanted(now = Date.now()): void {
    for (const [name, cursor] of this.#cursors) {
      if (now - cursor.readAt > this.#staleMs) this.#cursors.delete(name);
    }
    // Nobody reads yet: keep up to the bound, for the first reader.
    if (this.#cursors.size === 0) return;
    let slowest = Number.POSITIVE_INFINITY;
    for (const cursor of this.#cursors.values()) slowest = Math.min(slowest, cursor.seq);
    while (this.size > 0) {
      const oldest = this.#ticks[this.#head];
      if (oldest === undefined || oldest.seq > slowest) break;
      this.#sessions -= oldest.sessions.length;
      this.#head++;
    }
  }

  /**
   * Lets go of the ticks before the head once they are at least half the array: the cost of a
   * shift is spread over the ticks it frees, and dropped ticks (and their sessions) never
   * outnumber the ones held. A fixed floor here kept up to that many dropped ticks reachable,
   * over a quarter of an hour of a busy server's sessions at one tick a second.
   */
  #compact(): void {
    if (this.#head > 0 && this.#head * 2 >= this.#ticks.length) {
      this.#ticks.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
