/** A statement switched plans; flagged as a suspected regression when it got slower. */
export interface PlanChange {
  readonly queryId: string;
  readonly databaseName: string;
  /** Plan in use before, when one was known. */
  readonly previousPlanHash?: string;
  readonly newPlanHash: string;
  /** `new_plan` on first sight of a hash; `suspected_regression` once the slowdown is proven. */
  readonly kind: 'new_plan' | 'suspected_regression';
  /** Baseline mean of the previous plan, ms. */
  readonly previousMeanMs?: number;
  /** Mean of the new plan since it appeared, ms. */
  readonly newMeanMs?: number;
  /** Extra execution time per hour the new plan costs, ms. */
  readonly extraTimeMsPerHour?: number;
  /** Calls seen on the new plan. */
  readonly newPlanCalls?: number;
  /** True when the plans compared are generic (estimates, so only "suspected"). */
  readonly generic: boolean;
  /** When detected (ISO-8601, UTC). */
  readonly detectedAt: string;
}
