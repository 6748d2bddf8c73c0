import { ATTR } from './attribute-names.js';
import { dbNamespace } from './db-namespace.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import { msToSeconds, numberAt, samplesOf, textAt } from './probe-reading.js';

const FUNCTION = [ATTR.function, ATTR.dbNamespace];

const M = {
  calls: defineMetric({
    name: 'postgresql.function.calls',
    unit: '{call}',
    instrument: 'counter',
    description: 'Calls of a user function (needs track_functions = pl or all).',
    attributes: FUNCTION,
    receiver: true,
  }),
  time: defineMetric({
    name: 'postgresql.function.time',
    unit: 's',
    instrument: 'counter',
    integer: false,
    description: 'Time spent in a user function, including functions it called (total_time).',
    attributes: FUNCTION,
  }),
  selfTime: defineMetric({
    name: 'postgresql.function.self.time',
    unit: 's',
    instrument: 'counter',
    integer: false,
    description: 'Time spent in a user function itself, without functions it called (self_time).',
    attributes: FUNCTION,
  }),
} as const;

/**
 * pg_stat_user_functions. Overloads share a name; the receiver tells them apart by argument
 * names, which the probe does not read, so an overloaded name gets `_<oid>` appended: one
 * series per function, stable while the function exists.
 */
export const FUNCTION_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    for (const sample of samplesOf(batch, 'pg_stat_user_functions')) {
      const database = sample.database;
      if (database === undefined) continue;
      const seen = new Map<string, number>();
      for (const row of sample.rows) {
        const key = `${textAt(row, 'schemaname') ?? ''}.${textAt(row, 'funcname') ?? ''}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      for (const row of sample.rows) {
        const schema = textAt(row, 'schemaname');
        const name = textAt(row, 'funcname');
        if (schema === undefined || name === undefined) continue;
        const overloaded = (seen.get(`${schema}.${name}`) ?? 0) > 1;
        const oid = textAt(row, 'funcid');
        const attrs = {
          [ATTR.function]: overloaded && oid !== undefined ? `${name}_${oid}` : name,
          [ATTR.dbNamespace]: dbNamespace(database, schema),
        };
        const placement = { object: { database, schema } };
        sink.add(M.calls, numberAt(row, 'calls'), attrs, placement);
        sink.add(M.time, msToSeconds(numberAt(row, 'total_time')), attrs, placement);
        sink.add(M.selfTime, msToSeconds(numberAt(row, 'self_time')), attrs, placement);
      }
    }
  },
};
