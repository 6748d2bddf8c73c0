import type { CollectContext } from '../../core/collector.js';
import { errorMessage } from '../../core/errors.js';
import { redact } from '../../core/redact.js';
import {
  extensionAtLeast,
  extensionRelation,
  hasExtension,
  isPreloaded,
} from '../../core/server-facts.js';

const EXTENSION = 'pg_stat_kcache';

/**
 * CPU time per call of statements, from pg_stat_kcache (what the kernel charged the backends,
 * user + system): the difference of its cumulative seconds between two reads, over the calls
 * pg_stat_statements counted in the interval. Only the statements asked for are read, so a
 * statement has a figure from its second interval among them on.
 */
export class KcacheCpu {
  /** target → "dbid/queryid" → cumulative CPU seconds at the last read. */
  readonly #previous = new Map<string, Map<string, number>>();

  /** Mean CPU ms per call for each statement, keyed "dbid/queryid"; empty without the extension. */
  async perCall(
    ctx: CollectContext,
    statements: readonly {
      readonly dbid: number;
      readonly queryId: string;
      readonly calls: number;
    }[],
  ): Promise<Map<string, number>> {
    const facts = ctx.session.facts;
    const out = new Map<string, number>();
    if (!hasExtension(facts, EXTENSION) || isPreloaded(facts, EXTENSION) === false) return out;
    if (statements.length === 0) return out;
    const cpu = extensionAtLeast(facts, EXTENSION, '2.2')
      ? 'exec_user_time + exec_system_time'
      : 'user_time + system_time';
    // 2.2+ separates top-level from nested runs; pg_stat_statements' top-level figures pair
    // with the top-level ones.
    const top = extensionAtLeast(facts, EXTENSION, '2.2') ? 'AND top' : '';
    let rows: { key: string; cpu: number }[];
    try {
      rows = await ctx.session.query<{ key: string; cpu: number }>(
        `SELECT dbid::text || '/' || queryid::text AS key, sum(${cpu})::float8 AS cpu
           FROM ${extensionRelation(facts, EXTENSION, 'pg_stat_kcache')}()
          WHERE queryid = ANY($1::int8[]) ${top}
          GROUP BY dbid, queryid`,
        [[...new Set(statements.map((s) => s.queryId))]],
      );
    } catch (err) {
      ctx.logger.warn('pg_stat_kcache not read; CPU time left out', {
        err: redact(errorMessage(err)),
      });
      return out;
    }
    const before = this.#previous.get(ctx.target.name);
    const now = new Map(rows.map((r) => [r.key, r.cpu]));
    this.#previous.set(ctx.target.name, now);
    if (before === undefined) return out;
    for (const s of statements) {
      const key = `${s.dbid}/${s.queryId}`;
      const current = now.get(key);
      const previous = before.get(key);
      if (current === undefined || previous === undefined || s.calls <= 0) continue;
      const seconds = current - previous;
      if (seconds < 0) continue;
      out.set(key, Math.round(((seconds * 1000) / s.calls) * 1000) / 1000);
    }
    return out;
  }
}
