import {
  extensionAtLeast,
  extensionRelation,
  isPreloaded,
  type ServerFacts,
} from '../../core/server-facts.js';
import { defineProbe } from './define-probe.js';
import type { ProbeColumnSpec } from './probe-spec.js';

const EXTENSION = 'pg_stat_kcache';

/** 2.2 split the counters into planning and execution; 2.1 had execution only, unprefixed. */
const split = (facts: ServerFacts): boolean => extensionAtLeast(facts, EXTENSION, '2.2');
const unsplit = (facts: ServerFacts): boolean => !split(facts);

/** An execution counter, `plan_`/`exec_` on 2.2+, named without a prefix on 2.1. */
function execColumn(name: string, type: 'int8' | 'float8'): ProbeColumnSpec[] {
  const cast = type === 'int8' ? '::int8' : '::float8';
  return [
    { name: `exec_${name}`, type, sql: `exec_${name}${cast}`, when: split },
    { name: `exec_${name}`, type, sql: `${name}${cast}`, when: unsplit },
  ];
}

function planColumn(name: string, type: 'int8' | 'float8'): ProbeColumnSpec {
  const cast = type === 'int8' ? '::int8' : '::float8';
  return { name: `plan_${name}`, type, sql: `plan_${name}${cast}`, when: split };
}

/** Counters read: CPU seconds, page faults, bytes read and written, context switches. */
const COUNTERS: readonly [string, 'int8' | 'float8'][] = [
  ['user_time', 'float8'],
  ['system_time', 'float8'],
  ['minflts', 'int8'],
  ['majflts', 'int8'],
  ['reads', 'int8'],
  ['writes', 'int8'],
  ['nvcsws', 'int8'],
  ['nivcsws', 'int8'],
];

/**
 * Kernel-side cost of statements per database (the extension's `pg_stat_kcache` view, which
 * sums top-level statements): CPU time is what the OS charged the backends, `reads`/`writes`
 * the bytes that really hit storage, as opposed to shared-buffer hits. Cluster-wide, filtered
 * to the monitored databases.
 */
export const pgStatKcache = defineProbe({
  name: 'pg_stat_kcache',
  scope: 'server',
  description:
    'pg_stat_kcache per database: user and system CPU, page faults, bytes read and written, context switches',
  retentionDays: 7,
  enabledByDefault: true,
  key: ['datname'],
  columns: [
    { name: 'datname', type: 'text' },
    ...COUNTERS.flatMap(([name, type]) => execColumn(name, type)),
    ...COUNTERS.map(([name, type]) => planColumn(name, type)),
  ],
  requires: { extension: EXTENSION },
  unavailable: (facts) => {
    for (const library of ['pg_stat_statements', EXTENSION]) {
      if (isPreloaded(facts, library) === false) {
        return `${library} is not in shared_preload_libraries (add it, pg_stat_kcache after pg_stat_statements, and restart)`;
      }
    }
    // The view joins pg_stat_statements, which hides other roles' query ids: without this
    // grant the sums would silently cover only the monitoring role's own statements.
    if (!facts.hasReadAllStats) {
      return 'needs pg_read_all_stats to see every role (GRANT pg_monitor or pg_read_all_stats TO the monitoring role)';
    }
    return undefined;
  },
  read: (ctx, select) =>
    ctx.session.query(
      `SELECT ${select} FROM ${extensionRelation(ctx.session.facts, EXTENSION, 'pg_stat_kcache')}
        WHERE datname = ANY ($1::text[]) ORDER BY datname`,
      [ctx.databases],
    ),
});
