import type { CollectContext } from '../../core/collector.js';
import type { TargetKind } from '../../core/config/resolved-config.js';
import type { ProbeScope } from '../../core/model/probe-sample.js';
import type { ProbeColumnType } from '../../core/probe-schema.js';
import type { ServerFacts } from '../../core/server-facts.js';
import type { Row } from '../../core/target-connector.js';

/**
 * One output column and the servers that have it. A column whose SQL differs between versions
 * (a renamed view column) is declared once per range under the same name.
 */
export interface ProbeColumnSpec {
  /** Output name; the stored column. */
  readonly name: string;
  readonly type: ProbeColumnType;
  /** SQL expression producing it; the quoted name when omitted. */
  readonly sql?: string;
  /** First major version that has it; every supported one when omitted. */
  readonly since?: number;
  /** Last major version that has it, for removed or renamed columns. */
  readonly until?: number;
  /** Extra condition on the server (an extension version, say). */
  readonly when?: (facts: ServerFacts) => boolean;
  /**
   * A statement text: its literals and comments are removed before it leaves the process, as
   * for query-performance texts, since sessions put anything in them (a password included).
   */
  readonly statementText?: boolean;
}

/** What a probe needs from the server; checked before it runs, never by failing. */
export interface ProbeRequirements {
  /** Lowest major version with the view. */
  readonly minMajor?: number;
  /** Extension that must be installed in the database the probe reads. */
  readonly extension?: string;
  /** Lowest extension version that works. */
  readonly extensionVersion?: string;
  /** Only meaningful on a primary or on a standby. */
  readonly role?: 'primary' | 'standby';
}

/** Everything that defines one SQL probe. */
export interface ProbeSpec {
  readonly name: string;
  readonly scope: ProbeScope;
  /** Kind of target it reads; PostgreSQL when omitted. */
  readonly targetKind?: TargetKind;
  /** One line for docs and `--help`. */
  readonly description: string;
  /** Cadence when not configured, ms; omitted means the configured base interval. */
  readonly intervalMs?: number;
  /** History kept in the datastore when not configured, days. */
  readonly retentionDays: number;
  /** Whether it runs without being enabled in configuration. */
  readonly enabledByDefault: boolean;
  /** Store only when the content changed. */
  readonly changeTracked?: boolean;
  readonly columns: readonly ProbeColumnSpec[];
  /** Natural key of a row within one sample (column names). */
  readonly key: readonly string[];
  readonly requires?: ProbeRequirements;
  /** Further reasons it cannot run (privileges, settings); undefined when it can. */
  readonly unavailable?: (facts: ServerFacts) => string | undefined;
  /**
   * The statement, given the rendered select list (`expr AS "name", ...`) for this server.
   * Either this or `read`.
   */
  readonly sql?: (select: string, ctx: ProbeQueryContext) => string;
  /** Custom reading (timing, several statements); gets the same select list. */
  readonly read?: (ctx: CollectContext, select: string) => Promise<readonly Row[]>;
}

/** What `sql` may depend on besides the select list. */
export interface ProbeQueryContext {
  readonly facts: ServerFacts;
  /** Monitored databases of the server, for filters on cluster-wide views. */
  readonly databases: readonly string[];
}
