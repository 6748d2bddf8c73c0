import type { V4Dataset } from './v4-types.js';

/** Metrics plus events: what a line's size grows with. */
function itemsOf(dataset: V4Dataset): number {
  return dataset.metrics.length + dataset.events.length;
}

/**
 * A dataset cut into pieces of at most `limit` items, each with the same entity and common
 * block; the inventory rides on the first piece only.
 */
function pieces(dataset: V4Dataset, limit: number): V4Dataset[] {
  if (itemsOf(dataset) <= limit) return [dataset];
  const out: V4Dataset[] = [];
  const items = [
    ...dataset.metrics.map((m) => ({ metric: m })),
    ...dataset.events.map((e) => ({ event: e })),
  ];
  for (let start = 0; start < items.length; start += limit) {
    const slice = items.slice(start, start + limit);
    out.push({
      ...dataset,
      metrics: slice.flatMap((i) => ('metric' in i ? [i.metric] : [])),
      events: slice.flatMap((i) => ('event' in i ? [i.event] : [])),
      inventory: start === 0 ? dataset.inventory : {},
    });
  }
  return out;
}

/**
 * Datasets grouped into documents of at most `limit` metrics and events each, in order; an
 * entity too big for one document continues in the next. Never returns an empty list.
 */
export function splitDatasets(datasets: readonly V4Dataset[], limit: number): V4Dataset[][] {
  const documents: V4Dataset[][] = [];
  let current: V4Dataset[] = [];
  let count = 0;
  for (const piece of datasets.flatMap((d) => pieces(d, limit))) {
    const n = itemsOf(piece);
    if (current.length > 0 && count + n > limit) {
      documents.push(current);
      current = [];
      count = 0;
    }
    current.push(piece);
    count += n;
  }
  documents.push(current);
  return documents;
}
