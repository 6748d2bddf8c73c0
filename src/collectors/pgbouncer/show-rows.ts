import type { CollectContext } from '../../core/collector.js';
import type { ProbeColumnType } from '../../core/probe-schema.js';
import type { Row } from '../../core/target-connector.js';
import type { ProbeColumnSpec } from '../probes/probe-spec.js';

/** Unknown columns already reported, per command, so a newer PgBouncer is logged once. */
const reported = new Set<string>();

/**
 * Runs a SHOW command and keeps only the declared columns, coerced to their declared types.
 * PgBouncer adds (and once renamed) SHOW columns between releases and they cannot be selected
 * by name, so the probe declares every column it knows: those the server returns are kept,
 * unknown ones dropped (logged once at debug), missing ones simply absent from the rows.
 */
export async function readShow(
  ctx: CollectContext,
  command: string,
  columns: readonly ProbeColumnSpec[],
): Promise<Row[]> {
  const rows = await ctx.session.query(command);
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const first = rows[0];
  if (first !== undefined) {
    const unknown = Object.keys(first).filter((name) => !types.has(name));
    const fresh = unknown.filter((name) => !reported.has(`${command}.${name}`));
    if (fresh.length > 0) {
      for (const name of fresh) reported.add(`${command}.${name}`);
      ctx.logger.debug('PgBouncer returned columns this version does not know; dropped', {
        command,
        columns: fresh,
      });
    }
  }
  return rows.map((row) => {
    const out: Row = {};
    for (const [name, value] of Object.entries(row)) {
      const type = types.get(name);
      if (type !== undefined) out[name] = coerce(value, type);
    }
    return out;
  });
}

/** The console sends counters as text or numeric depending on the version: normalise. */
function coerce(value: unknown, type: ProbeColumnType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'int8':
    case 'float8': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? n : null;
    }
    case 'bool':
      return typeof value === 'boolean'
        ? value
        : ['1', 't', 'true', 'yes', 'on'].includes(text(value));
    default:
      return text(value);
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
