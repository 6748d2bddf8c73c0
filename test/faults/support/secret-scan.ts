import pg from 'pg';

/** The sentinel as it could appear in bytes: as is, and base64-encoded on its own. */
export function sentinelNeedles(sentinel: string): Buffer[] {
  const raw = Buffer.from(sentinel, 'utf8');
  return [raw, Buffer.from(raw.toString('base64')), Buffer.from(raw.toString('base64url'))];
}

/** Whether `text` holds the sentinel in any of its forms (a boolean: never print the text). */
export function holdsSentinel(text: string | Buffer, sentinel: string): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return sentinelNeedles(sentinel).some((n) => bytes.includes(n));
}

/** What a scan of the datastore database found. */
export interface DatastoreScan {
  readonly tables: number;
  readonly rows: number;
  /** Tables (schema.name) with rows that hold the sentinel, and how many. */
  readonly leaks: Record<string, number>;
}

/**
 * Every row of every table in every schema of the datastore's database (partitions
 * included), as JSON text, searched for the sentinel and its base64 forms; the one column
 * allowed to carry it, encrypted, is left out: `password_encrypted`.
 */
export async function scanDatastore(url: string, sentinel: string): Promise<DatastoreScan> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname !~ '^pg_(toast|temp)'
        ORDER BY 1, 2`,
    );
    const [raw, b64, b64url] = sentinelNeedles(sentinel).map((b) => b.toString('utf8'));
    let rows = 0;
    const leaks: Record<string, number> = {};
    for (const t of tables) {
      const ident = `${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`;
      const { rows: counts } = await client.query<{ total: number; hits: number }>(
        `SELECT count(*)::int AS total,
                count(*) FILTER (WHERE strpos(j, $1) > 0 OR strpos(j, $2) > 0
                                    OR strpos(j, $3) > 0)::int AS hits
           FROM (SELECT (to_jsonb(t) - 'password_encrypted')::text AS j FROM ${ident} t) s`,
        [raw, b64, b64url],
      );
      rows += counts[0]?.total ?? 0;
      const hits = counts[0]?.hits ?? 0;
      if (hits > 0) leaks[`${t.schema}.${t.name}`] = hits;
    }
    return { tables: tables.length, rows, leaks };
  } finally {
    await client.end();
  }
}

/**
 * Where in JSON documents (one per line; other lines are skipped) a string holds the
 * sentinel, as paths with array indices folded (`probes[].rows[].query`) and a probe's name
 * or an event type where there is one, so a leak can be located without printing it.
 */
export function locateSentinel(text: string, sentinel: string): string[] {
  const found = new Set<string>();
  const walk = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      if (holdsSentinel(value, sentinel)) found.add(where);
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) walk(item, `${where}[]`);
      return;
    }
    if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      const label =
        typeof record.probe === 'string'
          ? `<${record.probe}>`
          : typeof record.event_type === 'string'
            ? `<${record.event_type}>`
            : typeof record.eventType === 'string'
              ? `<${record.eventType}>`
              : '';
      for (const [key, inner] of Object.entries(record)) {
        if (holdsSentinel(key, sentinel)) found.add(`${where}${label}.<key>`);
        walk(inner, `${where}${label}.${key}`);
      }
    }
  };
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || !holdsSentinel(line, sentinel)) continue;
    try {
      walk(JSON.parse(line), '$');
    } catch {
      found.add('(a line that is not JSON)');
    }
  }
  return [...found].sort();
}
