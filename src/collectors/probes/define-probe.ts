import type { Collector } from '../../core/collector.js';
import type { ProbeColumnSchema, ProbeSchema } from '../../core/probe-schema.js';
import { extensionAtLeast, hasExtension, type ServerFacts } from '../../core/server-facts.js';
import type { Row } from '../../core/target-connector.js';
import { probeSample } from '../probe-sample.js';
import { obfuscateSql } from '../query-text/obfuscate-sql.js';
import type { ProbeColumnSpec, ProbeSpec } from './probe-spec.js';

/** A collector built from a probe spec, with its definition kept for docs and registration. */
export interface ProbeCollector extends Collector {
  readonly schema: ProbeSchema;
  readonly spec: ProbeSpec;
}

/** Turns a spec into a collector whose SQL is chosen from the server's facts. */
export function defineProbe(spec: ProbeSpec): ProbeCollector {
  if ((spec.sql === undefined) === (spec.read === undefined)) {
    throw new Error(`probe ${spec.name}: define exactly one of sql and read`);
  }
  const schema = schemaOf(spec);
  const texts = spec.columns.filter((c) => c.statementText === true).map((c) => c.name);
  return {
    name: spec.name,
    scope: spec.scope,
    ...(spec.targetKind === undefined ? {} : { targetKind: spec.targetKind }),
    description: spec.description,
    ...(spec.intervalMs === undefined ? {} : { defaultIntervalMs: spec.intervalMs }),
    schema,
    spec,
    unavailableReason(session) {
      return unavailableReason(spec, session.facts);
    },
    async collect(ctx) {
      const facts = ctx.session.facts;
      const select = selectList(spec.columns, facts);
      const rows =
        spec.read !== undefined
          ? await spec.read(ctx, select)
          : await ctx.session.query(
              (spec.sql as NonNullable<ProbeSpec['sql']>)(select, {
                facts,
                databases: ctx.databases,
              }),
            );
      return {
        probes: [probeSample(this, ctx, texts.length === 0 ? rows : obfuscated(rows, texts))],
      };
    },
  };
}

/** The rows with the statement-text columns obfuscated (literals `?`, comments gone). */
function obfuscated(rows: readonly Row[], columns: readonly string[]): Row[] {
  return rows.map((row) => {
    const out: Row = { ...row };
    for (const name of columns) {
      const value = out[name];
      if (typeof value === 'string') out[name] = obfuscateSql(value);
    }
    return out;
  });
}

/** Whether a column exists on this server. */
export function columnApplies(column: ProbeColumnSpec, facts: ServerFacts): boolean {
  return (
    (column.since === undefined || facts.major >= column.since) &&
    (column.until === undefined || facts.major <= column.until) &&
    (column.when === undefined || column.when(facts))
  );
}

/** `expr AS "name", ...` for the columns this server has; one entry per name. */
export function selectList(columns: readonly ProbeColumnSpec[], facts: ServerFacts): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const column of columns) {
    if (seen.has(column.name) || !columnApplies(column, facts)) continue;
    seen.add(column.name);
    const name = quoteIdent(column.name);
    parts.push(column.sql === undefined ? name : `${column.sql} AS ${name}`);
  }
  return parts.join(', ');
}

/** Why a probe cannot run here, from its declared requirements, then its own check. */
export function unavailableReason(spec: ProbeSpec, facts: ServerFacts): string | undefined {
  // The app never schedules a probe on the other kind; this keeps direct runs (tests) honest.
  const wanted = spec.targetKind ?? 'postgresql';
  const actual = facts.product ?? 'postgresql';
  if (wanted !== actual) return `reads ${wanted} targets; this target is ${actual}`;
  const req = spec.requires;
  if (req?.minMajor !== undefined && facts.major < req.minMajor) {
    return `needs PostgreSQL ${req.minMajor} or later (server is ${facts.major})`;
  }
  if (req?.extension !== undefined) {
    if (!hasExtension(facts, req.extension)) {
      return `extension ${req.extension} is not installed in database ${facts.database} (CREATE EXTENSION ${req.extension})`;
    }
    if (
      req.extensionVersion !== undefined &&
      !extensionAtLeast(facts, req.extension, req.extensionVersion)
    ) {
      return `extension ${req.extension} ${facts.extensions[req.extension] ?? ''} is older than ${req.extensionVersion} (ALTER EXTENSION ${req.extension} UPDATE)`;
    }
  }
  if (req?.role === 'primary' && facts.isInRecovery) return 'server is a standby';
  if (req?.role === 'standby' && !facts.isInRecovery) return 'server is not a standby';
  return spec.unavailable?.(facts);
}

function schemaOf(spec: ProbeSpec): ProbeSchema {
  const columns: ProbeColumnSchema[] = [];
  const byName = new Map<string, ProbeColumnSchema>();
  for (const column of spec.columns) {
    const known = byName.get(column.name);
    if (known !== undefined) {
      if (known.type !== column.type) {
        throw new Error(`probe ${spec.name}: column ${column.name} declared with two types`);
      }
      continue;
    }
    const entry = { name: column.name, type: column.type };
    byName.set(column.name, entry);
    columns.push(entry);
  }
  for (const key of spec.key) {
    if (!byName.has(key)) throw new Error(`probe ${spec.name}: key column ${key} is not declared`);
  }
  return {
    name: spec.name,
    scope: spec.scope,
    columns,
    key: spec.key,
    retentionDays: spec.retentionDays,
    changeTracked: spec.changeTracked ?? false,
  };
}

/** Double-quotes an identifier for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
