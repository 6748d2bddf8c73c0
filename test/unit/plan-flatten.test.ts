import { describe, expect, it } from 'vitest';
import { flattenPlan, planRelations } from '../../src/collectors/plans/plan-flatten.js';

function node(type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'Node Type': type,
    'Parallel Aware': false,
    'Startup Cost': 0,
    'Total Cost': 1,
    'Plan Rows': 1,
    'Plan Width': 4,
    ...extra,
  };
}

/**
 * Shaped like PostgreSQL 13's output (no "Async Capable"): a hash join whose outer side is a
 * nested loop, written as EXPLAIN (VERBOSE, FORMAT JSON) would.
 */
const DOC = [
  {
    Plan: node('Hash Join', {
      'Join Type': 'Inner',
      'Startup Cost': 10.5,
      'Total Cost': 99.25,
      'Plan Rows': 120,
      'Plan Width': 16,
      Plans: [
        node('Nested Loop', {
          'Parent Relationship': 'Outer',
          'Join Type': 'Inner',
          Plans: [
            node('Seq Scan', {
              'Parent Relationship': 'Outer',
              'Relation Name': 'orders',
              Schema: 'shop',
              Alias: 'o',
            }),
            node('Index Scan', {
              'Parent Relationship': 'Inner',
              'Parallel Aware': true,
              'Scan Direction': 'Forward',
              'Index Name': 'items_order_idx',
              'Relation Name': 'items',
              Schema: 'shop',
              Alias: 'i',
            }),
          ],
        }),
        node('Hash', {
          'Parent Relationship': 'Inner',
          Plans: [
            node('Seq Scan', {
              'Parent Relationship': 'Outer',
              'Relation Name': 'orders',
              Schema: 'shop',
              Alias: 'o2',
            }),
          ],
        }),
      ],
    }),
  },
];

describe('flattenPlan', () => {
  it('numbers nodes in depth-first pre-order with parent links', () => {
    const nodes = flattenPlan(DOC);
    expect(nodes.map((n) => [n.levelId, n.parentLevelId, n.nodeType])).toEqual([
      [0, undefined, 'Hash Join'],
      [1, 0, 'Nested Loop'],
      [2, 1, 'Seq Scan'],
      [3, 1, 'Index Scan'],
      [4, 0, 'Hash'],
      [5, 4, 'Seq Scan'],
    ]);
    expect('parentLevelId' in nodes[0]!).toBe(false);
  });

  it('maps the node fields, defaulting Async Capable to false before PostgreSQL 14', () => {
    const [root, , scan, index] = flattenPlan(DOC);
    expect(root).toEqual({
      levelId: 0,
      nodeType: 'Hash Join',
      parallelAware: false,
      asyncCapable: false,
      startupCost: 10.5,
      totalCost: 99.25,
      planRows: 120,
      planWidth: 16,
    });
    expect(scan).toMatchObject({ relationName: 'orders', alias: 'o' });
    expect(index).toEqual({
      levelId: 3,
      parentLevelId: 1,
      nodeType: 'Index Scan',
      parallelAware: true,
      asyncCapable: false,
      scanDirection: 'Forward',
      indexName: 'items_order_idx',
      relationName: 'items',
      alias: 'i',
      startupCost: 0,
      totalCost: 1,
      planRows: 1,
      planWidth: 4,
    });
  });

  it('reads Async Capable and Rows Removed by Filter when present', () => {
    const [only] = flattenPlan({
      Plan: node('Seq Scan', { 'Async Capable': true, 'Rows Removed by Filter': 7 }),
    });
    expect(only).toMatchObject({ asyncCapable: true, rowsRemovedByFilter: 7 });
  });

  it('accepts the document, its single object, the QUERY PLAN row and JSON text alike', () => {
    const expected = flattenPlan(DOC);
    expect(flattenPlan(DOC[0])).toEqual(expected);
    expect(flattenPlan({ 'QUERY PLAN': DOC })).toEqual(expected);
    expect(flattenPlan(JSON.stringify(DOC))).toEqual(expected);
    expect(flattenPlan(JSON.stringify(DOC, null, 2))).toEqual(expected);
  });

  it('keeps a COSTS OFF plan, with zero costs', () => {
    const [only] = flattenPlan([{ Plan: { 'Node Type': 'Result' } }]);
    expect(only).toEqual({
      levelId: 0,
      nodeType: 'Result',
      parallelAware: false,
      asyncCapable: false,
      startupCost: 0,
      totalCost: 0,
      planRows: 0,
      planWidth: 0,
    });
  });

  it('throws on documents that are not plans', () => {
    for (const bad of [
      undefined,
      null,
      42,
      'not json',
      '{"rows": []}',
      [],
      [{}],
      [{ Plan: {} }],
      [{ Plan: { 'Node Type': 7 } }],
      { Plan: [] },
    ]) {
      expect(() => flattenPlan(bad), JSON.stringify(bad)).toThrow(/EXPLAIN|plan/);
    }
  });

  it('throws on a malformed subtree rather than dropping it', () => {
    expect(() => flattenPlan({ Plan: node('Append', { Plans: {} }) })).toThrow(/"Plans"/);
    expect(() => flattenPlan({ Plan: node('Append', { Plans: [node('Result'), {}] }) })).toThrow(
      /Node Type/,
    );
  });
});

describe('planRelations', () => {
  it('lists each relation once, schema-qualified when VERBOSE named it', () => {
    expect(planRelations(DOC)).toEqual([
      { schema: 'shop', relation: 'orders' },
      { schema: 'shop', relation: 'items' },
    ]);
  });

  it('omits the schema without VERBOSE and ignores nodes without a relation', () => {
    const doc = {
      Plan: node('Append', {
        Plans: [
          node('Seq Scan', { 'Relation Name': 't_p1', Alias: 't_1' }),
          node('Seq Scan', { 'Relation Name': 't_p2', Alias: 't_2' }),
          node('Function Scan', { 'Function Name': 'generate_series' }),
          node('Seq Scan', { 'Relation Name': 't_p1', Alias: 't_3' }),
        ],
      }),
    };
    expect(planRelations(doc)).toEqual([{ relation: 't_p1' }, { relation: 't_p2' }]);
  });
});
