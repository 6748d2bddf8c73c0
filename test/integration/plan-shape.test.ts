import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { flattenPlan, planRelations } from '../../src/collectors/plans/plan-flatten.js';
import { planHash, type PlanHashOptions } from '../../src/collectors/plans/plan-hash.js';
import { freshDatabase, queryOnce } from '../helpers/fresh-database.js';

const pgUrl = inject('pgUrl');

/** Stand-in for the real obfuscator: quoted and numeric literals become `?`. */
function normalizeCondition(expr: string): string {
  return expr.replace(/'(?:[^']|'')*'/g, '?').replace(/(?<![\w$.])\d+(?:\.\d+)?/g, '?');
}

const PLAIN: PlanHashOptions = { normalizeCondition };

let url: string;
let client: pg.Client;

async function explain(sql: string, verbose = false): Promise<unknown> {
  const options = verbose ? 'VERBOSE, FORMAT JSON' : 'FORMAT JSON';
  const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (${options}) ${sql}`);
  return rows[0]?.['QUERY PLAN'];
}

/** Partition parents as the collector would read them, re-read after every DDL. */
async function catalogParents(): Promise<PlanHashOptions> {
  const { rows } = await client.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent`,
  );
  const parents = new Map(rows.map((r) => [r.child, r.parent]));
  return { normalizeCondition, parentOf: (relation) => parents.get(relation) };
}

/** An independent recursive pre-order walk, to check flattenPlan's numbering against. */
function preOrder(explainJson: unknown): [string, number | undefined][] {
  const out: [string, number | undefined][] = [];
  const visit = (node: Record<string, unknown>, parent: number | undefined): void => {
    const id = out.length;
    out.push([node['Node Type'] as string, parent]);
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) {
      visit(child, id);
    }
  };
  visit((explainJson as { Plan: Record<string, unknown> }[])[0]!.Plan, undefined);
  return out;
}

beforeAll(async () => {
  url = await freshDatabase(pgUrl, 'pgql_plan');
  client = new pg.Client({ connectionString: url });
  await client.connect();
  // Parallel plans depend on the machine's worker settings; the shapes here must not.
  await client.query('SET max_parallel_workers_per_gather = 0');
});

afterAll(async () => {
  await client?.end();
  if (url !== undefined) {
    await queryOnce(pgUrl, `DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)}`);
  }
});

describe('planHash on a real server', () => {
  it('keeps the hash when only costs or literals change, and changes it with an index', async () => {
    await client.query(`CREATE TABLE plain (a int, b int, c text)`);
    await client.query(
      `INSERT INTO plain SELECT g % 2000, g % 7, 'row ' || g FROM generate_series(1, 20000) g`,
    );
    await client.query('ANALYZE plain');
    const query = 'SELECT * FROM plain WHERE a = 42';
    const first = await explain(query);
    const hash = planHash(first, PLAIN);
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(planHash(await explain(query), PLAIN)).toBe(hash);
    expect(planHash(await explain('SELECT * FROM plain WHERE a = 4242'), PLAIN)).toBe(hash);
    expect(planHash(await explain('SELECT * FROM plain WHERE b = 42'), PLAIN)).not.toBe(hash);
    expect(flattenPlan(first)[0]).toMatchObject({ nodeType: 'Seq Scan', relationName: 'plain' });

    await client.query(
      `INSERT INTO plain SELECT g % 2000, g % 7, 'more ' || g FROM generate_series(1, 20000) g`,
    );
    await client.query('ANALYZE plain');
    const grown = await explain(query);
    expect(flattenPlan(grown)[0]!.totalCost).toBeGreaterThan(flattenPlan(first)[0]!.totalCost);
    expect(planHash(grown, PLAIN)).toBe(hash);

    await client.query('CREATE INDEX plain_a_idx ON plain (a)');
    await client.query('ANALYZE plain');
    const indexed = await explain(query);
    expect(flattenPlan(indexed).some((n) => n.indexName === 'plain_a_idx')).toBe(true);
    const indexedHash = planHash(indexed, PLAIN);
    expect(indexedHash).not.toBe(hash);
    expect(planHash(await explain(query), PLAIN)).toBe(indexedHash);
  });

  for (const indexOnParent of [true, false]) {
    const table = indexOnParent ? 'parted_pi' : 'parted_li';
    it(`is unchanged by a new partition (${indexOnParent ? 'partitioned' : 'per-partition'} index)`, async () => {
      const partition = async (n: number): Promise<void> => {
        await client.query(
          `CREATE TABLE ${table}_p${n} PARTITION OF ${table}
             FOR VALUES FROM (${(n - 1) * 1000}) TO (${n * 1000})`,
        );
        await client.query(
          `INSERT INTO ${table}
           SELECT ${(n - 1) * 1000} + g % 1000, g % 500, g % 7 FROM generate_series(1, 10000) g`,
        );
        if (!indexOnParent) await client.query(`CREATE INDEX ON ${table}_p${n} (a)`);
      };
      await client.query(`CREATE TABLE ${table} (k int, a int, b int) PARTITION BY RANGE (k)`);
      if (indexOnParent) await client.query(`CREATE INDEX ON ${table} (a)`);
      for (const n of [1, 2, 3]) await partition(n);
      await client.query(`ANALYZE ${table}`);

      const queries: [string, boolean][] = [
        [`SELECT * FROM ${table} WHERE a = 42`, false],
        [`SELECT * FROM ${table} WHERE a = 42`, true],
        [`SELECT k, b FROM ${table} WHERE b = 3 ORDER BY b`, true],
        [`SELECT * FROM ${table} WHERE k = 5 AND a = 42`, false],
      ];
      const before: { hash: string; nodes: number }[] = [];
      const options = await catalogParents();
      for (const [sql, verbose] of queries) {
        const plan = await explain(sql, verbose);
        before.push({ hash: planHash(plan, options), nodes: flattenPlan(plan).length });
      }

      await partition(4);
      await client.query(`ANALYZE ${table}`);
      const after = await catalogParents();
      for (const [i, [sql, verbose]] of queries.entries()) {
        const plan = await explain(sql, verbose);
        const label = `${sql}${verbose ? ' (VERBOSE)' : ''}`;
        expect(planHash(plan, after), label).toBe(before[i]!.hash);
        // Without folding, the partition is visible: this is what the hash must ignore.
        if (i < 3) expect(flattenPlan(plan).length, label).toBeGreaterThan(before[i]!.nodes);
        if (i < 3) expect(planHash(plan, PLAIN), label).not.toBe(before[i]!.hash);
      }
    });
  }
});

describe('flattenPlan on a real server', () => {
  beforeAll(async () => {
    await client.query('CREATE TABLE customers (id int PRIMARY KEY, name text)');
    await client.query(
      'CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount numeric, note text)',
    );
    await client.query(
      `INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 2000) g`,
    );
    await client.query(
      `INSERT INTO orders SELECT g, 1 + g % 2000, g % 97, 'n' FROM generate_series(1, 20000) g`,
    );
    await client.query('ANALYZE customers, orders');
  });

  const JOIN = `SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id
                WHERE o.amount > 90 AND c.name <> 'x'`;

  async function explainWith(settings: string[]): Promise<unknown> {
    await client.query('BEGIN');
    try {
      for (const s of settings) await client.query(`SET LOCAL ${s}`);
      return await explain(JOIN);
    } finally {
      await client.query('ROLLBACK');
    }
  }

  for (const [joinType, settings] of [
    ['Hash Join', ['enable_nestloop = off', 'enable_mergejoin = off']],
    ['Nested Loop', ['enable_hashjoin = off', 'enable_mergejoin = off']],
  ] as const) {
    it(`numbers a ${joinType} plan in pre-order with parent ids`, async () => {
      const plan = await explainWith([...settings]);
      const nodes = flattenPlan(plan);
      expect(nodes[0]!.nodeType).toBe(joinType);
      expect(nodes.map((n) => [n.nodeType, n.parentLevelId])).toEqual(preOrder(plan));
      expect(nodes.map((n) => n.levelId)).toEqual(nodes.map((_, i) => i));
      expect(nodes.filter((n) => n.parentLevelId === 0)).toHaveLength(2);
      for (const n of nodes.slice(1)) expect(n.parentLevelId).toBeLessThan(n.levelId);
      for (const n of nodes) {
        expect(n.totalCost).toBeGreaterThanOrEqual(n.startupCost);
        expect(n.planWidth).toBeGreaterThanOrEqual(0);
        expect(typeof n.asyncCapable).toBe('boolean');
      }
      const scanned = nodes.filter((n) => n.relationName !== undefined);
      expect(scanned.map((n) => n.alias).sort()).toEqual(['c', 'o']);
      expect(
        planRelations(plan)
          .map((r) => r.relation)
          .sort(),
      ).toEqual(['customers', 'orders']);
    });
  }

  it('names schemas when explained with VERBOSE', async () => {
    expect(
      planRelations(await explain(JOIN, true)).sort((a, b) => a.relation.localeCompare(b.relation)),
    ).toEqual([
      { schema: 'public', relation: 'customers' },
      { schema: 'public', relation: 'orders' },
    ]);
  });
});

describe('planHash on synthetic plans', () => {
  const scan = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    'Node Type': 'Seq Scan',
    'Parent Relationship': 'Member',
    'Relation Name': 't_p1',
    Alias: 't_1',
    Filter: '(b = 1)',
    ...extra,
  });
  const doc = (plan: Record<string, unknown>): unknown => [{ Plan: plan }];
  const append = (...members: Record<string, unknown>[]): unknown =>
    doc({ 'Node Type': 'Append', Plans: members });
  const partitions: PlanHashOptions = {
    normalizeCondition,
    parentOf: (relation) => (/^t_p\d+$/.test(relation) ? 't' : undefined),
  };

  it('ignores costs, estimates, actuals, workers, pruning, output and aliases', () => {
    const base = doc({
      'Node Type': 'Gather',
      'Workers Planned': 2,
      Plans: [scan({ 'Parent Relationship': 'Outer' })],
    });
    const noisy = doc({
      'Node Type': 'Gather',
      'Workers Planned': 4,
      'Workers Launched': 3,
      'Startup Cost': 1.5,
      'Total Cost': 99,
      'Plan Rows': 1000,
      'Plan Width': 8,
      'Actual Rows': 3,
      'Parallel Aware': false,
      'Subplans Removed': 2,
      Plans: [
        scan({ 'Parent Relationship': 'Outer', Alias: 'zz', Output: ['zz.b'], 'Total Cost': 5 }),
      ],
    });
    expect(planHash(noisy, PLAIN)).toBe(planHash(base, PLAIN));
  });

  it('tells apart operations, join types, indexes, conditions and child order', () => {
    const join = (extra: Record<string, unknown>, outer: string, inner: string): unknown =>
      doc({
        'Node Type': 'Nested Loop',
        'Join Type': 'Inner',
        ...extra,
        Plans: [
          scan({ 'Parent Relationship': 'Outer', 'Relation Name': outer }),
          scan({ 'Parent Relationship': 'Inner', 'Relation Name': inner }),
        ],
      });
    const hashes = [
      join({}, 'a', 'b'),
      join({}, 'b', 'a'),
      join({ 'Join Type': 'Left' }, 'a', 'b'),
      join({ 'Node Type': 'Hash Join' }, 'a', 'b'),
      join({ 'Join Filter': '(a.x > b.y)' }, 'a', 'b'),
      join({ 'Join Filter': '(a.x < b.y)' }, 'a', 'b'),
    ].map((p) => planHash(p, PLAIN));
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(planHash(join({ 'Join Filter': '(a.x > 5)' }, 'a', 'b'), PLAIN)).toBe(
      planHash(join({ 'Join Filter': '(a.x > 7)' }, 'a', 'b'), PLAIN),
    );
  });

  it('encodes nesting, so a chain and siblings never collide', () => {
    const leaf = (name: string): Record<string, unknown> => ({ 'Node Type': name });
    const chain = doc({ ...leaf('Limit'), Plans: [{ ...leaf('Sort'), Plans: [leaf('Result')] }] });
    const siblings = doc({ ...leaf('Limit'), Plans: [leaf('Sort'), leaf('Result')] });
    expect(planHash(chain, PLAIN)).not.toBe(planHash(siblings, PLAIN));
    const tricky = doc({ 'Node Type': 'Result', Filter: '"],[' });
    const plain = doc({ 'Node Type': 'Result', Filter: '' });
    expect(planHash(tricky, PLAIN)).not.toBe(planHash(plain, PLAIN));
  });

  it('collapses partition members by shape, in any order', () => {
    const p = (n: number, extra: Record<string, unknown> = {}): Record<string, unknown> =>
      scan({ 'Relation Name': `t_p${n}`, Alias: `t_${n}`, ...extra });
    const three = planHash(append(p(1), p(2), p(3)), partitions);
    expect(planHash(append(p(3), p(1), p(2), p(4)), partitions)).toBe(three);
    // A member of another shape still counts, wherever it sits.
    const mixed = planHash(append(p(1), p(2, { 'Node Type': 'Index Scan' })), partitions);
    expect(mixed).not.toBe(three);
    expect(planHash(append(p(2, { 'Node Type': 'Index Scan' }), p(3), p(1)), partitions)).toBe(
      mixed,
    );
    // Without parentOf the partitions stay distinct.
    expect(planHash(append(p(1), p(2)), PLAIN)).not.toBe(planHash(append(p(1)), PLAIN));
  });

  it('folds partition index names and aliases in conditions to the parent', () => {
    const bitmap = (n: number, alias: string): Record<string, unknown> => ({
      'Node Type': 'Bitmap Heap Scan',
      'Parent Relationship': 'Member',
      'Relation Name': `t_p${n}`,
      Alias: alias,
      'Recheck Cond': `(${alias}.a = 42)`,
      Plans: [
        {
          'Node Type': 'Bitmap Index Scan',
          'Parent Relationship': 'Outer',
          'Index Name': `t_p${n}_a_idx`,
          'Index Cond': `(${alias}.a = 42)`,
        },
      ],
    });
    // PostgreSQL 14+ aliases (t_1, t_2) and 12–13 ones (the partition's own name).
    expect(planHash(append(bitmap(1, 't_1'), bitmap(2, 't_2')), partitions)).toBe(
      planHash(append(bitmap(1, 't_1')), partitions),
    );
    expect(planHash(append(bitmap(1, 't_p1'), bitmap(2, 't_p2')), partitions)).toBe(
      planHash(append(bitmap(1, 't_p1')), partitions),
    );
  });

  it('prefers parentOf for index names and survives a cyclic parentOf', () => {
    const indexScan = (index: string): unknown =>
      doc({ 'Node Type': 'Index Scan', 'Relation Name': 'x', 'Index Name': index });
    const byCatalog: PlanHashOptions = {
      normalizeCondition,
      parentOf: (name) => ({ x_1_idx: 'x_idx', x_2_idx: 'x_idx' })[name],
    };
    expect(planHash(indexScan('x_1_idx'), byCatalog)).toBe(
      planHash(indexScan('x_2_idx'), byCatalog),
    );
    const cyclic: PlanHashOptions = {
      normalizeCondition,
      parentOf: (name) => (name === 'a' ? 'b' : 'a'),
    };
    expect(planHash(indexScan('a'), cyclic)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('qualifies relations by schema when the plan names one', () => {
    const inSchema = (schema: string): unknown =>
      doc({ 'Node Type': 'Seq Scan', 'Relation Name': 't', Schema: schema });
    expect(planHash(inSchema('a'), PLAIN)).not.toBe(planHash(inSchema('b'), PLAIN));
  });
});
