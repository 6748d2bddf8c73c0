import type {
  DatabaseObjectRef,
  MetricAttributeValue,
  MetricDescriptor,
  MetricPoint,
} from './metric-types.js';

/** Where a point belongs, besides its attributes. */
export interface PointPlacement {
  readonly object?: DatabaseObjectRef;
  readonly intervalMs?: number;
}

/**
 * Collects points in the order families add them. It is the one place that enforces the
 * catalogue's promises: no NULL, NaN or infinite value ever leaves it, integer metrics carry
 * integers, and attributes with an undefined or empty-string value are dropped (an empty
 * `db.namespace` means "no database", not a database called '').
 */
export class PointSink {
  readonly #points: MetricPoint[] = [];

  add(
    descriptor: MetricDescriptor,
    value: number | null | undefined,
    attributes: Readonly<Record<string, MetricAttributeValue | undefined>> = {},
    placement: PointPlacement = {},
  ): void {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    const clean: Record<string, MetricAttributeValue> = {};
    for (const [key, attr] of Object.entries(attributes)) {
      if (attr === undefined || attr === '') continue;
      if (typeof attr === 'number' && !Number.isFinite(attr)) continue;
      clean[key] = attr;
    }
    const intervalMs =
      placement.intervalMs !== undefined &&
      Number.isFinite(placement.intervalMs) &&
      placement.intervalMs > 0
        ? Math.round(placement.intervalMs)
        : undefined;
    this.#points.push({
      descriptor,
      value: descriptor.integer ? Math.round(value) : value,
      attributes: Object.freeze(clean),
      ...(placement.object === undefined ? {} : { object: placement.object }),
      ...(intervalMs === undefined ? {} : { intervalMs }),
    });
  }

  /** The points added so far. */
  get points(): readonly MetricPoint[] {
    return this.#points;
  }
}
