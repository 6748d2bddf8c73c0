import type { ProbeScope } from './model/probe-sample.js';

/**
 * Storage type of a probe column. Integers are all int8 (counters outgrow int4), LSNs and xids
 * travel as text, arrays and composite values as JSON text.
 */
export type ProbeColumnType = 'text' | 'int8' | 'float8' | 'bool' | 'timestamptz' | 'jsonb';

/** One column of a probe's rows, normalised across server versions. */
export interface ProbeColumnSchema {
  /** Column name as it appears in the rows (the view's own name where one exists). */
  readonly name: string;
  /** How the datastore stores it. */
  readonly type: ProbeColumnType;
}

/**
 * The shape of a probe's rows, independent of the server it ran on: the union of the columns
 * every supported version can return. Adapters that store or map rows read this, never the
 * collector itself, so they stay independent of collectors.
 */
export interface ProbeSchema {
  /** Probe name; also the datastore table (`metrics.<name>`). */
  readonly name: string;
  /** Server- or database-scoped; database-scoped rows carry `database_name` in storage. */
  readonly scope: ProbeScope;
  /** Every column any version may return, in a stable order. */
  readonly columns: readonly ProbeColumnSchema[];
  /** Columns identifying one row within one sample (the natural key), possibly empty. */
  readonly key: readonly string[];
  /** How long stored history is kept when not configured, days. */
  readonly retentionDays: number;
  /** Stored only when the content changed since the last stored sample (settings, hba, ...). */
  readonly changeTracked: boolean;
}
