/** One node of an EXPLAIN tree, in depth-first pre-order. */
export interface PlanNode {
  /** Position in pre-order across the whole tree (nri's `level_id`). */
  readonly levelId: number;
  /** Parent's levelId; absent for the root. */
  readonly parentLevelId?: number;
  readonly nodeType: string;
  readonly parallelAware: boolean;
  readonly asyncCapable: boolean;
  readonly scanDirection?: string;
  readonly indexName?: string;
  readonly relationName?: string;
  readonly alias?: string;
  readonly startupCost: number;
  readonly totalCost: number;
  readonly planRows: number;
  readonly planWidth: number;
  /** Only with ANALYZE, which pgquerylens never runs; kept for NRI shape. */
  readonly rowsRemovedByFilter?: number;
}

/** A captured execution plan of one statement. */
export interface ExecutionPlan {
  readonly queryId: string;
  readonly databaseName: string;
  /** Stable structural hash (64-bit hex) of the plan's shape, not its costs. */
  readonly planHash: string;
  /** Identifier exported as nri's `plan_id`; equals planHash unless the server provides one. */
  readonly planId: string;
  /** True when captured with GENERIC_PLAN or a forced generic plan. */
  readonly generic: boolean;
  /** When captured (ISO-8601, UTC). */
  readonly capturedAt: string;
  /** Flattened nodes. */
  readonly nodes: readonly PlanNode[];
  /** The raw EXPLAIN (FORMAT JSON) document, when kept. */
  readonly planJson?: unknown;
}
