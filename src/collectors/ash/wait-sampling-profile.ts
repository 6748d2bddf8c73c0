import type { CollectContext } from '../../core/collector.js';
import type { WaitEvent } from '../../core/model/wait-event.js';
import {
  extensionAtLeast,
  extensionRelation,
  hasExtension,
  isPreloaded,
  type ServerFacts,
} from '../../core/server-facts.js';
import { waitCategory } from './wait-event-catalog.js';

const EXTENSION = 'pg_wait_sampling';

interface ProfileRow {
  readonly event_type: string;
  readonly event: string;
  readonly queryid: string;
  readonly samples: number;
  readonly period_ms: number | null;
  readonly can_reset: boolean;
}

/** Whether the profile can be read here. */
export function waitSamplingUsable(facts: ServerFacts): boolean {
  return hasExtension(facts, EXTENSION) && isPreloaded(facts, EXTENSION) !== false;
}

/**
 * pg_wait_sampling's profile (never its history: a ring of raw samples that is overwritten
 * within a second on a busy server), turned into wait time per event and query: count ×
 * profile_period. The profile is reset after each read when the role may, so it stays small;
 * otherwise the previous read is subtracted. Idle waits (a client not sending, a background
 * process's main loop) are left out: they are not time a statement spent.
 */
export class WaitSamplingProfile {
  readonly #previous = new Map<string, Map<string, number>>();

  /** The previous read of a target (kept only without reset rights), for the next process. */
  saveState(target: string): Record<string, number> | undefined {
    const previous = this.#previous.get(target);
    return previous === undefined ? undefined : Object.fromEntries(previous);
  }

  /** Takes a saved read back; anything not a count is skipped. */
  restoreState(target: string, saved: unknown): void {
    if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return;
    const read = new Map<string, number>();
    for (const [key, samples] of Object.entries(saved as Record<string, unknown>)) {
      if (typeof samples === 'number' && Number.isFinite(samples)) read.set(key, samples);
    }
    this.#previous.set(target, read);
  }

  forgetTarget(target: string): void {
    this.#previous.delete(target);
  }

  async read(
    ctx: CollectContext,
    databaseOf: (queryId: string) => string | undefined,
  ): Promise<WaitEvent[]> {
    const facts = ctx.session.facts;
    const profile = extensionRelation(facts, EXTENSION, 'pg_wait_sampling_profile');
    const reset = extensionRelation(facts, EXTENSION, 'pg_wait_sampling_reset_profile');
    const queryId = extensionAtLeast(facts, EXTENSION, '1.1') ? 'coalesce(queryid, 0)' : '0';
    const rows = await ctx.session.query<ProfileRow & Record<string, unknown>>(
      `SELECT coalesce(event_type, 'CPU') AS event_type, coalesce(event, 'CPU') AS event,
              ${queryId}::text AS queryid, sum(count)::int8 AS samples,
              current_setting('pg_wait_sampling.profile_period', true)::int8 AS period_ms,
              has_function_privilege('${reset}()', 'EXECUTE') AS can_reset
         FROM ${profile}
        GROUP BY 1, 2, 3`,
    );
    const canReset = rows[0]?.can_reset ?? false;
    if (canReset) await ctx.session.query(`SELECT ${reset}()`);
    const target = ctx.target.name;
    const before = this.#previous.get(target);
    const now = new Map<string, number>();
    const events: WaitEvent[] = [];
    const collectedAt = ctx.startedAt.toISOString();
    for (const row of rows) {
      const key = `${row.event_type}\u0000${row.event}\u0000${row.queryid}`;
      now.set(key, row.samples);
      if (isIdleWait(row.event_type, row.event)) continue;
      // Without reset rights, the first read is only a baseline.
      if (!canReset && before === undefined) continue;
      const samples = canReset ? row.samples : row.samples - (before?.get(key) ?? 0);
      if (samples <= 0) continue;
      const id = row.queryid === '0' ? undefined : row.queryid;
      const database = id === undefined ? undefined : databaseOf(id);
      events.push({
        databaseName: database ?? '',
        ...(id === undefined ? {} : { queryId: id }),
        waitEventType: row.event_type,
        waitEvent: row.event,
        waitEventName: `${row.event_type}:${row.event}`,
        waitCategory: waitCategory(row.event_type),
        totalWaitTimeMs: samples * (row.period_ms ?? 10),
        sampleCount: samples,
        source: 'pg_wait_sampling',
        collectedAt,
      });
    }
    if (canReset) this.#previous.delete(target);
    else this.#previous.set(target, now);
    return events.sort((a, b) => b.totalWaitTimeMs - a.totalWaitTimeMs);
  }
}

function isIdleWait(type: string, event: string): boolean {
  return type === 'Activity' || (type === 'Client' && event === 'ClientRead');
}
