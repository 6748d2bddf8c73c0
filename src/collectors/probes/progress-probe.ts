import { defineProbe, quoteIdent, type ProbeCollector } from './define-probe.js';
import { secondsSql } from './maintenance-sql.js';
import type { ProbeColumnSpec } from './probe-spec.js';

/** One pg_stat_progress_* view and what differs between them. */
export interface ProgressProbeOptions {
  readonly name: string;
  readonly view: string;
  readonly description: string;
  readonly minMajor?: number;
  /** Whether the view has datid, datname and relid (all but basebackup). */
  readonly perRelation: boolean;
  /** Columns after the common ones; `sql` defaults to the view's column. */
  readonly columns: readonly ProbeColumnSpec[];
  /**
   * What the duration counts from. VACUUM, ANALYZE and multi-table CLUSTER commit per table,
   * so the later of transaction and statement start times the table in hand; the others run
   * the whole statement on one relation (CREATE INDEX CONCURRENTLY even spans transactions).
   */
  readonly durationFrom: 'table' | 'statement';
}

/** A column of the progress view `p`; oids become int8. */
export function progressColumn(
  name: string,
  type: ProbeColumnSpec['type'],
  extra: Partial<ProbeColumnSpec> = {},
): ProbeColumnSpec {
  return { name, type, sql: `p.${quoteIdent(name)}`, ...extra };
}

/** An oid column of the progress view, as int8 (0 when not applicable, as the view says). */
export function progressOidColumn(name: string): ProbeColumnSpec {
  return { name, type: 'int8', sql: `p.${quoteIdent(name)}::int8` };
}

/**
 * A server-scoped probe of a progress view: one row per running command, none most of the time.
 * The relation's name can only be resolved in the database the collector is connected to.
 */
export function progressProbe(opts: ProgressProbeOptions): ProbeCollector {
  const start =
    opts.durationFrom === 'table' ? 'greatest(a.xact_start, a.query_start)' : 'a.query_start';
  const relationColumns: ProbeColumnSpec[] = opts.perRelation
    ? [
        progressOidColumn('datid'),
        progressColumn('datname', 'text'),
        progressOidColumn('relid'),
        {
          name: 'relname',
          type: 'text',
          sql: 'CASE WHEN p.datname = current_database() AND p.relid <> 0 THEN p.relid::regclass::text END',
        },
      ]
    : [];
  return defineProbe({
    name: opts.name,
    scope: 'server',
    description: opts.description,
    retentionDays: 7,
    enabledByDefault: true,
    key: ['pid'],
    ...(opts.minMajor === undefined ? {} : { requires: { minMajor: opts.minMajor } }),
    columns: [
      progressColumn('pid', 'int8'),
      ...relationColumns,
      ...opts.columns,
      { name: 'duration_seconds', type: 'float8', sql: secondsSql(`now() - ${start}`) },
    ],
    sql: (select) =>
      `SELECT ${select} FROM ${opts.view} p LEFT JOIN pg_stat_activity a ON a.pid = p.pid ORDER BY p.pid`,
  });
}
