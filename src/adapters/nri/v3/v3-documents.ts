import type { TargetIdentity } from '../../../core/model/target-identity.js';
import {
  V3_INTEGRATION_NAME,
  V3_SETS_PER_LINE,
  type V3Document,
  type V3Entity,
  type V3QpmGroup,
} from './v3-types.js';

/**
 * The stdout lines of one batch, as nri-postgresql publishes them: the entities first (one
 * line, split only past 600 sets), then a line per query-performance event type, again split
 * every 600 sets. The agent and the QPM schemas read each line on its own.
 */
export function buildV3Documents(
  target: TargetIdentity,
  entities: readonly V3Entity[],
  qpm: readonly V3QpmGroup[],
  integrationVersion: string,
): V3Document[] {
  const documents: V3Document[] = [];
  const wrap = (data: V3Entity[]): V3Document => ({
    name: V3_INTEGRATION_NAME,
    protocol_version: '3',
    integration_version: integrationVersion,
    data,
  });
  let data: V3Entity[] = [];
  let sets = 0;
  for (const entity of entities) {
    for (const part of splitEntity(entity, V3_SETS_PER_LINE)) {
      if (sets + part.metrics.length > V3_SETS_PER_LINE && data.length > 0) {
        documents.push(wrap(data));
        data = [];
        sets = 0;
      }
      data.push(part);
      sets += part.metrics.length;
    }
  }
  if (data.length > 0) documents.push(wrap(data));
  for (const group of qpm) {
    for (let i = 0; i < group.sets.length; i += V3_SETS_PER_LINE) {
      documents.push(
        wrap([
          {
            // nri-postgresql puts every QPM set on the instance entity.
            entity: {
              name: `${target.host}:${target.port}`,
              type: 'pg-instance',
              id_attributes: [],
            },
            metrics: group.sets.slice(i, i + V3_SETS_PER_LINE),
            inventory: {},
            events: [],
          },
        ]),
      );
    }
  }
  return documents;
}

/** An entity with more sets than fit a line, cut into parts; inventory stays with the first. */
function splitEntity(entity: V3Entity, max: number): V3Entity[] {
  if (entity.metrics.length <= max) return [entity];
  const parts: V3Entity[] = [];
  for (let i = 0; i < entity.metrics.length; i += max) {
    parts.push({
      entity: entity.entity,
      metrics: entity.metrics.slice(i, i + max),
      inventory: i === 0 ? entity.inventory : {},
      events: [],
    });
  }
  return parts;
}

/**
 * One document as the Go SDK prints it: metric sets and inventory are Go maps, which
 * encoding/json writes with their keys sorted, and strings are HTML-escaped (`<`, `>`, `&`,
 * U+2028, U+2029 as \u escapes). Anything that compares lines byte for byte sees the same text.
 */
export function serializeV3Document(doc: V3Document): string {
  const data = doc.data.map((e) => ({
    entity: e.entity,
    metrics: e.metrics.map(sortKeys),
    inventory: sortKeys(
      Object.fromEntries(Object.entries(e.inventory).map(([k, v]) => [k, sortKeys(v)])),
    ),
    events: e.events,
  }));
  const json = JSON.stringify({
    name: doc.name,
    protocol_version: doc.protocol_version,
    integration_version: doc.integration_version,
    data,
  });
  // These characters cannot occur in JSON outside strings, so replacing them anywhere is safe.
  return json.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A copy with keys in byte order, as Go sorts map keys. */
function sortKeys<V>(record: Readonly<Record<string, V>>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const key of Object.keys(record).sort(byteOrder)) out[key] = record[key] as V;
  return out;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
