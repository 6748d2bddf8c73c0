import type { V3Entity, V3IdAttribute } from './v3-types.js';

/** nri-postgresql's entity types. */
export type V3EntityType = 'pg-instance' | 'pg-database' | 'pg-table' | 'pg-index' | 'pgbouncer';

/** What names an entity: its name, type and identity attributes (any order). */
export interface V3EntityIdentity {
  /** `entity.name`: the object's own name (database, table, index) or `host:port`. */
  readonly name: string;
  /** `entity.type`. */
  readonly type: V3EntityType;
  /** `id_attributes` as a map; printed sorted by key. */
  readonly idAttributes: Readonly<Record<string, string>>;
}

/**
 * The entity key the SDK computes (and the agent recomputes): `type:name`, then
 * `:k=v` per identity attribute sorted by key, the attribute part lower-cased.
 */
export function v3EntityKey(identity: V3EntityIdentity): string {
  const attributes = sortedIdAttributes(identity.idAttributes)
    .map((a) => `:${a.Key}=${a.Value}`)
    .join('')
    .toLowerCase();
  return `${identity.type}:${identity.name}${attributes}`;
}

/** Identity attributes sorted by key, as the SDK sorts them in place before printing. */
export function sortedIdAttributes(attributes: Readonly<Record<string, string>>): V3IdAttribute[] {
  return Object.entries(attributes)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([Key, Value]) => ({ Key, Value }));
}

/** `host:port`, the instance entity's name; host and port as configured, never resolved. */
export function instanceName(host: string, port: string): string {
  return `${host}:${port}`;
}

/** One entity being filled, with the key its rate namespace uses. */
export interface V3EntityDraft {
  /** The SDK's entity key; part of every rate namespace of the entity. */
  readonly key: string;
  /** The entity as it will be printed; sets and inventory are added in place. */
  readonly entity: V3Entity;
}

/**
 * The entities of one document in creation order. Like the SDK's `integration.Entity`, asking
 * for an entity twice returns the same one, so several queries add sets to one entity.
 */
export class V3EntityRegistry {
  private readonly drafts = new Map<string, V3EntityDraft>();

  /** The entity with this identity, created (at the end of the list) if new. */
  entity(identity: V3EntityIdentity): V3EntityDraft {
    const key = v3EntityKey(identity);
    let draft = this.drafts.get(key);
    if (draft === undefined) {
      draft = {
        key,
        entity: {
          entity: {
            name: identity.name,
            type: identity.type,
            id_attributes: sortedIdAttributes(identity.idAttributes),
          },
          metrics: [],
          inventory: {},
          events: [],
        },
      };
      this.drafts.set(key, draft);
    }
    return draft;
  }

  /** Every entity, in the order first asked for. */
  entities(): V3Entity[] {
    return [...this.drafts.values()].map((d) => d.entity);
  }
}
