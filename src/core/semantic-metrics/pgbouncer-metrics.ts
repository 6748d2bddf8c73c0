import { ATTR } from './attribute-names.js';
import { defineMetric } from './define-metric.js';
import type { MetricFamily } from './metric-family.js';
import type { MetricDescriptor } from './metric-types.js';
import { numberAt, rowsOf, textAt } from './probe-reading.js';

const POOL_DB = [ATTR.dbNamespace];
const POOL = [ATTR.dbNamespace, ATTR.userName, ATTR.pgbouncerConnectionState];

/** A SHOW STATS total, per PgBouncer database. */
function statsCounter(
  name: string,
  unit: string,
  description: string,
  integer = true,
  attributes: readonly string[] = POOL_DB,
): MetricDescriptor {
  return defineMetric({ name, unit, instrument: 'counter', description, integer, attributes });
}

const M = {
  transactions: statsCounter(
    'pgbouncer.transactions',
    '{transaction}',
    'Transactions pooled (total_xact_count).',
  ),
  queries: statsCounter(
    'pgbouncer.queries',
    '{query}',
    'Queries pooled (total_query_count; total_requests before 1.8).',
  ),
  networkIo: statsCounter(
    'pgbouncer.network.io',
    'By',
    'Network traffic between clients and PgBouncer (total_received, total_sent).',
    true,
    [ATTR.dbNamespace, ATTR.networkIoDirection],
  ),
  transactionTime: statsCounter(
    'pgbouncer.transaction.time',
    's',
    'Time clients spent in transactions on a server connection (total_xact_time).',
    false,
  ),
  queryTime: statsCounter(
    'pgbouncer.query.time',
    's',
    'Time clients spent running queries on a server connection (total_query_time).',
    false,
  ),
  clientWaitTime: statsCounter(
    'pgbouncer.client.wait.time',
    's',
    'Time clients spent waiting for a server connection (total_wait_time).',
    false,
  ),
  serverAssignments: statsCounter(
    'pgbouncer.server.assignments',
    '{assignment}',
    'Times a server connection was assigned to a client (total_server_assignment_count, 1.23+).',
  ),
  clientConnections: defineMetric({
    name: 'pgbouncer.client.connection.count',
    unit: '{connection}',
    instrument: 'updown-counter',
    description:
      'Client connections per pool (database and user), by state: active, waiting, and cancel requests.',
    attributes: POOL,
  }),
  serverConnections: defineMetric({
    name: 'pgbouncer.server.connection.count',
    unit: '{connection}',
    instrument: 'updown-counter',
    description:
      'Server connections per pool, by state: active, idle, used, tested, login, and cancellations.',
    attributes: POOL,
  }),
  oldestWait: defineMetric({
    name: 'pgbouncer.client.wait.oldest.age',
    unit: 's',
    instrument: 'gauge',
    integer: false,
    description: 'How long the oldest waiting client of a pool has waited (maxwait + maxwait_us).',
    attributes: [ATTR.dbNamespace, ATTR.userName],
  }),
} as const;

const CLIENT_STATES = [
  ['active', 'cl_active'],
  ['waiting', 'cl_waiting'],
  ['active_cancel_req', 'cl_active_cancel_req'],
  ['waiting_cancel_req', 'cl_waiting_cancel_req'],
  ['cancel_req', 'cl_cancel_req'],
] as const;

const SERVER_STATES = [
  ['active', 'sv_active'],
  ['active_cancel', 'sv_active_cancel'],
  ['being_canceled', 'sv_being_canceled'],
  ['idle', 'sv_idle'],
  ['used', 'sv_used'],
  ['tested', 'sv_tested'],
  ['login', 'sv_login'],
] as const;

/** Microseconds (as PgBouncer reports times) to seconds. */
function microsToSeconds(us: number | undefined): number | undefined {
  return us === undefined ? undefined : us / 1_000_000;
}

/**
 * PgBouncer targets: SHOW STATS and SHOW POOLS. `db.namespace` is the PgBouncer database (a
 * pool's name, not necessarily a PostgreSQL database), and no point carries a database object:
 * every one describes the pooler itself.
 */
export const PGBOUNCER_METRICS: MetricFamily = {
  descriptors: Object.values(M),
  derive(batch, sink) {
    for (const { row } of rowsOf(batch, 'pgbouncer_stats')) {
      const db = { [ATTR.dbNamespace]: textAt(row, 'database') };
      sink.add(M.transactions, numberAt(row, 'total_xact_count'), db);
      sink.add(
        M.queries,
        numberAt(row, 'total_query_count') ?? numberAt(row, 'total_requests'),
        db,
      );
      sink.add(M.networkIo, numberAt(row, 'total_received'), {
        ...db,
        [ATTR.networkIoDirection]: 'receive',
      });
      sink.add(M.networkIo, numberAt(row, 'total_sent'), {
        ...db,
        [ATTR.networkIoDirection]: 'transmit',
      });
      sink.add(M.transactionTime, microsToSeconds(numberAt(row, 'total_xact_time')), db);
      sink.add(M.queryTime, microsToSeconds(numberAt(row, 'total_query_time')), db);
      sink.add(M.clientWaitTime, microsToSeconds(numberAt(row, 'total_wait_time')), db);
      sink.add(M.serverAssignments, numberAt(row, 'total_server_assignment_count'), db);
    }
    for (const { row } of rowsOf(batch, 'pgbouncer_pools')) {
      const pool = {
        [ATTR.dbNamespace]: textAt(row, 'database'),
        [ATTR.userName]: textAt(row, 'user'),
      };
      for (const [state, column] of CLIENT_STATES) {
        sink.add(M.clientConnections, numberAt(row, column), {
          ...pool,
          [ATTR.pgbouncerConnectionState]: state,
        });
      }
      for (const [state, column] of SERVER_STATES) {
        sink.add(M.serverConnections, numberAt(row, column), {
          ...pool,
          [ATTR.pgbouncerConnectionState]: state,
        });
      }
      const seconds = numberAt(row, 'maxwait');
      const micros = numberAt(row, 'maxwait_us') ?? 0;
      sink.add(M.oldestWait, seconds === undefined ? undefined : seconds + micros / 1e6, pool);
    }
  },
};
