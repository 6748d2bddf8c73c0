import { createHash } from 'node:crypto';
import { planRoot, stringField, walkPlan, type RawPlanNode } from './plan-flatten.js';

/** How planHash folds the parts of a plan that change without the plan's shape changing. */
export interface PlanHashOptions {
  /** Obfuscates one expression (literals → placeholders) so parameter values do not split plans. */
  readonly normalizeCondition: (expr: string) => string;
  /**
   * The partition (or inheritance) parent of a relation or index, undefined when it has none.
   * Applied repeatedly, so sub-partitions fold to the root. The returned name is used as given,
   * qualified with the child's schema when the plan named one.
   */
  readonly parentOf?: (relation: string, schema?: string) => string | undefined;
}

/** Node properties that define the operation itself; missing ones encode as null. */
const SHAPE_FIELDS = [
  'Node Type',
  'Parent Relationship',
  'Join Type',
  'Strategy',
  'Partial Mode',
  'Operation',
  'Scan Direction',
] as const;

const NAME_FIELDS = ['CTE Name', 'Subplan Name', 'Function Name'] as const;

const CONDITION_FIELDS = [
  'Index Cond',
  'Hash Cond',
  'Merge Cond',
  'Recheck Cond',
  'Filter',
  'Join Filter',
  'TID Cond',
  'One-Time Filter',
] as const;

const KEY_LIST_FIELDS = ['Sort Key', 'Presorted Key', 'Group Key'] as const;

/**
 * Nodes whose "Member" children are one per partition (ModifyTable only before PostgreSQL 14):
 * their count and order follow partition churn, not the plan's shape.
 */
const PARTITION_FANOUT = new Set(['Append', 'Merge Append', 'ModifyTable']);

/** Parents deeper than this are a cycle in the caller's parentOf, not real partitioning. */
const MAX_PARTITION_DEPTH = 32;

/** A relation folded to its parent, inherited by descendants without a relation of their own. */
interface Fold {
  readonly child: string;
  readonly parent: string;
  readonly schema: string | undefined;
}

interface Entry {
  readonly node: RawPlanNode;
  readonly parent: number | undefined;
  readonly fold: Fold | undefined;
  readonly relation: string | undefined;
  readonly children: string[];
}

function rootOf(
  name: string,
  schema: string | undefined,
  parentOf: PlanHashOptions['parentOf'],
): string | undefined {
  if (parentOf === undefined) return undefined;
  let root: string | undefined;
  for (let depth = 0; depth < MAX_PARTITION_DEPTH; depth++) {
    const parent = parentOf(root ?? name, schema);
    if (parent === undefined || parent === (root ?? name)) break;
    root = parent;
  }
  return root;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrites partition aliases (`orders_3.id`, which VERBOSE and parameterized conditions print)
 * back to the parent's alias (`orders.id`), so partitions' conditions compare equal.
 */
function aliasFolder(aliases: ReadonlyMap<string, string>): (expr: string) => string {
  if (aliases.size === 0) return (expr) => expr;
  const names = [...aliases.keys()].map(escapeRegExp).join('|');
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}_$"])(?:"(${names})"|(${names}))(?=\\.)`, 'gu');
  return (expr) =>
    expr.replace(pattern, (match, quoted: string | undefined, bare: string | undefined) => {
      const base = aliases.get(quoted ?? bare ?? '');
      if (base === undefined) return match;
      return quoted === undefined ? base : `"${base}"`;
    });
}

function foldIndex(
  index: string | undefined,
  node: RawPlanNode,
  fold: Fold | undefined,
  parentOf: PlanHashOptions['parentOf'],
): string | undefined {
  if (index === undefined) return undefined;
  // Partitioned indexes are in pg_inherits too, so a catalogue-fed parentOf knows them exactly.
  const schema = stringField(node, 'Schema') ?? fold?.schema;
  const parent = rootOf(index, schema, parentOf);
  if (parent !== undefined) return parent;
  // Best effort otherwise: indexes created through the parent are named after the partition.
  if (fold !== undefined && index.startsWith(fold.child)) {
    return fold.parent + index.slice(fold.child.length);
  }
  return index;
}

function keyList(value: unknown, normalize: (expr: string) => string): readonly string[] | null {
  if (!Array.isArray(value)) return null;
  return value.map((key: unknown) => (typeof key === 'string' ? normalize(key) : String(key)));
}

function render(
  entry: Entry,
  children: readonly string[],
  normalize: (expr: string) => string,
  parentOf: PlanHashOptions['parentOf'],
): string {
  const { node, fold } = entry;
  const schema = stringField(node, 'Schema');
  const fields: (string | readonly string[] | null)[] = [
    ...SHAPE_FIELDS.map((key) => stringField(node, key) ?? null),
    schema ?? null,
    entry.relation ?? null,
    foldIndex(stringField(node, 'Index Name'), node, fold, parentOf) ?? null,
    ...NAME_FIELDS.map((key) => stringField(node, key) ?? null),
    ...CONDITION_FIELDS.map((key) => {
      const expr = stringField(node, key);
      return expr === undefined ? null : normalize(expr);
    }),
    ...KEY_LIST_FIELDS.map((key) => keyList(node[key], normalize)),
  ];
  // JSON nests unambiguously: distinct trees can never serialize to the same text.
  return `[${JSON.stringify(fields)},[${children.join(',')}]]`;
}

/** Member children collapsed to the distinct shapes, sorted; other children keep their order. */
function collapseMembers(
  node: RawPlanNode,
  children: readonly Entry[],
  rendered: readonly string[],
): readonly string[] {
  if (!PARTITION_FANOUT.has(stringField(node, 'Node Type') ?? '')) return rendered;
  const others: string[] = [];
  const members = new Set<string>();
  children.forEach((child, i) => {
    const text = rendered[i] ?? '';
    if (stringField(child.node, 'Parent Relationship') === 'Member') members.add(text);
    else others.push(text);
  });
  return [...others, ...[...members].sort()];
}

/**
 * The canonical text of a plan's shape: per node, in child order, its operation, relation and
 * index (partitions folded to their parent), CTE/subplan names and normalized conditions and
 * keys. Costs, row and width estimates, actuals, workers, pruning counts, output columns and
 * aliases are left out, so the same plan keeps its text as statistics and partitions change.
 */
export function planShapeText(explainJson: unknown, options: PlanHashOptions): string {
  const { parentOf } = options;
  const entries: Entry[] = [];
  const aliases = new Map<string, string>();
  walkPlan(planRoot(explainJson), (node, levelId, parent) => {
    const inherited = parent === undefined ? undefined : entries[parent]?.fold;
    const relation = stringField(node, 'Relation Name');
    let fold = inherited;
    let shown = relation;
    if (relation !== undefined) {
      const schema = stringField(node, 'Schema');
      const root = rootOf(relation, schema, parentOf);
      fold = root === undefined ? undefined : { child: relation, parent: root, schema };
      shown = root ?? relation;
      // Partition aliases are `<parent alias>_<n>` from PostgreSQL 14 on, the partition's own
      // name before; both are printed in VERBOSE or parameterized conditions and sort keys.
      const alias = stringField(node, 'Alias');
      if (root !== undefined && alias !== undefined) {
        const base = alias === relation ? root : /^(.+)_\d+$/u.exec(alias)?.[1];
        if (base !== undefined) aliases.set(alias, base);
      }
    }
    entries[levelId] = { node, parent, fold, relation: shown, children: [] };
  });

  const unalias = aliasFolder(aliases);
  const normalize = (expr: string): string => options.normalizeCondition(unalias(expr));
  const childEntries = new Map<number, Entry[]>();
  for (const entry of entries) {
    if (entry.parent === undefined) continue;
    const list = childEntries.get(entry.parent) ?? [];
    list.push(entry);
    childEntries.set(entry.parent, list);
  }
  // Pre-order puts every child after its parent, so walking backwards renders bottom-up.
  let rootText = '';
  for (let levelId = entries.length - 1; levelId >= 0; levelId--) {
    const entry = entries[levelId];
    if (entry === undefined) continue;
    const children = childEntries.get(levelId) ?? [];
    const rendered = collapseMembers(entry.node, children, entry.children.reverse());
    const text = render(entry, rendered, normalize, parentOf);
    if (entry.parent === undefined) rootText = text;
    else entries[entry.parent]?.children.push(text);
  }
  return rootText;
}

/**
 * Structural hash of an EXPLAIN (FORMAT JSON) plan: 16 lowercase hex digits, the first 64 bits
 * of SHA-256 over planShapeText. Plans captured with and without VERBOSE hash differently
 * (VERBOSE adds schemas), so one collector must always explain the same way.
 */
export function planHash(explainJson: unknown, options: PlanHashOptions): string {
  return createHash('sha256')
    .update(planShapeText(explainJson, options), 'utf8')
    .digest('hex')
    .slice(0, 16);
}
