import type { CollectContext } from '../../core/collector.js';
import { errorMessage } from '../../core/errors.js';
import { redact } from '../../core/redact.js';
import {
  WAIT_EVENTS_VIEW_MIN_MAJOR,
  waitEventDescription,
  waitEventsSql,
} from './wait-event-catalog.js';

type Describe = (type: string, event: string) => string | undefined;

/**
 * Wait-event descriptions from the server's own pg_wait_events (PostgreSQL 17+), read once
 * per target; the shipped table fills in before 17 and for labels of ours (CPU, IdleTx).
 */
export class LiveWaitEventDescriptions {
  readonly #byTarget = new Map<string, ReadonlyMap<string, string>>();

  async for(ctx: CollectContext): Promise<Describe> {
    const facts = ctx.session.facts;
    if (facts.major < WAIT_EVENTS_VIEW_MIN_MAJOR) return waitEventDescription;
    let live = this.#byTarget.get(ctx.target.name);
    if (live === undefined) {
      try {
        const rows = await ctx.session.query<{ type: string; name: string; description: string }>(
          waitEventsSql(),
        );
        live = new Map(rows.map((r) => [`${r.type}:${r.name}`, r.description]));
        this.#byTarget.set(ctx.target.name, live);
      } catch (err) {
        ctx.logger.debug('pg_wait_events not read; using the shipped descriptions', {
          err: redact(errorMessage(err)),
        });
        return waitEventDescription;
      }
    }
    const known = live;
    return (type, event) => known.get(`${type}:${event}`) ?? waitEventDescription(type, event);
  }
}
