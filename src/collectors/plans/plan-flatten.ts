import type { PlanNode } from '../../core/model/execution-plan.js';

/** One node of an EXPLAIN (FORMAT JSON) tree as the server sent it. */
export type RawPlanNode = Readonly<Record<string, unknown>>;

/** A relation a plan reads or writes; `schema` only when EXPLAIN VERBOSE named it. */
export interface PlanRelation {
  readonly schema?: string;
  readonly relation: string;
}

function isObject(value: unknown): value is RawPlanNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The root plan node of an EXPLAIN (FORMAT JSON) document. Accepts the document as the server
 * returns it (an array holding `{ "Plan": … }`), that object alone, the `QUERY PLAN` row, a bare
 * node, or any of these as JSON text, because drivers differ in whether they parse json columns.
 * Only the first statement is used when rules expanded the query into several plans.
 */
export function planRoot(explainJson: unknown): RawPlanNode {
  let doc = explainJson;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc) as unknown;
    } catch (err) {
      throw new Error(`EXPLAIN document is not valid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  if (isObject(doc) && 'QUERY PLAN' in doc) doc = doc['QUERY PLAN'];
  if (Array.isArray(doc)) {
    if (doc.length === 0) throw new Error('EXPLAIN document is an empty array');
    doc = doc[0];
  }
  if (isObject(doc) && 'Plan' in doc) doc = doc.Plan;
  if (!isObject(doc) || typeof doc['Node Type'] !== 'string') {
    throw new Error('not an EXPLAIN (FORMAT JSON) plan: no "Plan" object with a "Node Type"');
  }
  return doc;
}

/** A node's children, checked, so a malformed subtree fails loudly instead of vanishing. */
export function planChildren(node: RawPlanNode): RawPlanNode[] {
  const plans = node.Plans;
  if (plans === undefined) return [];
  if (!Array.isArray(plans)) throw new Error('malformed plan: "Plans" is not an array');
  return plans.map((child: unknown) => {
    if (!isObject(child) || typeof child['Node Type'] !== 'string') {
      throw new Error('malformed plan: a child in "Plans" has no "Node Type"');
    }
    return child;
  });
}

/** A string field, or undefined when absent or of another type. */
export function stringField(node: RawPlanNode, key: string): string | undefined {
  const value = node[key];
  return typeof value === 'string' ? value : undefined;
}

// COSTS OFF omits the numbers; 0 keeps PlanNode total instead of failing on a valid plan.
function numberField(node: RawPlanNode, key: string): number {
  const value = node[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function toPlanNode(node: RawPlanNode, levelId: number, parentLevelId?: number): PlanNode {
  const rowsRemoved = node['Rows Removed by Filter'];
  return {
    levelId,
    ...(parentLevelId === undefined ? {} : { parentLevelId }),
    nodeType: stringField(node, 'Node Type') ?? '',
    parallelAware: node['Parallel Aware'] === true,
    // "Async Capable" exists from PostgreSQL 14; older servers never run nodes async.
    asyncCapable: node['Async Capable'] === true,
    ...optional('scanDirection', stringField(node, 'Scan Direction')),
    ...optional('indexName', stringField(node, 'Index Name')),
    ...optional('relationName', stringField(node, 'Relation Name')),
    ...optional('alias', stringField(node, 'Alias')),
    startupCost: numberField(node, 'Startup Cost'),
    totalCost: numberField(node, 'Total Cost'),
    planRows: numberField(node, 'Plan Rows'),
    planWidth: numberField(node, 'Plan Width'),
    ...(typeof rowsRemoved === 'number' ? { rowsRemovedByFilter: rowsRemoved } : {}),
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/**
 * Visits every node depth-first in pre-order (children in the server's order). Iterative so
 * a pathologically deep plan cannot overflow the stack.
 */
export function walkPlan(
  root: RawPlanNode,
  visit: (node: RawPlanNode, levelId: number, parentLevelId: number | undefined) => void,
): void {
  const stack: { node: RawPlanNode; parent: number | undefined }[] = [
    { node: root, parent: undefined },
  ];
  let next = 0;
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const levelId = next++;
    visit(item.node, levelId, item.parent);
    // Pushed last-first so the first child is popped, and numbered, next.
    for (const child of planChildren(item.node).reverse()) {
      stack.push({ node: child, parent: levelId });
    }
  }
}

/** Flattens an EXPLAIN (FORMAT JSON) document into nodes in pre-order with parent links. */
export function flattenPlan(explainJson: unknown): PlanNode[] {
  const nodes: PlanNode[] = [];
  walkPlan(planRoot(explainJson), (node, levelId, parent) => {
    nodes.push(toPlanNode(node, levelId, parent));
  });
  return nodes;
}

/** The distinct relations a plan touches, in first-seen pre-order. */
export function planRelations(explainJson: unknown): PlanRelation[] {
  const seen = new Set<string>();
  const relations: PlanRelation[] = [];
  walkPlan(planRoot(explainJson), (node) => {
    const relation = stringField(node, 'Relation Name');
    if (relation === undefined) return;
    const schema = stringField(node, 'Schema');
    // A NUL cannot occur in an identifier, so the key cannot collide.
    const key = `${schema ?? ''}\u0000${relation}`;
    if (seen.has(key)) return;
    seen.add(key);
    relations.push(schema === undefined ? { relation } : { schema, relation });
  });
  return relations;
}
