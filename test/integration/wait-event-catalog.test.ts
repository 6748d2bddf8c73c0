import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import {
  WAIT_EVENTS_VIEW_MIN_MAJOR,
  waitEventDescription,
  waitEventsSql,
} from '../../src/collectors/ash/wait-event-catalog.js';
import { WAIT_EVENT_SOURCE_VERSIONS } from '../../src/collectors/ash/wait-event-descriptions.js';

const pgUrl = inject('pgUrl');
const major = inject('pgMajor');

/** `17.10` → 170010, comparable with `server_version_num`. */
function versionNum(version: string): number {
  const [maj = 0, min = 0] = version.split('.').map(Number);
  return maj * 10_000 + min;
}

describe('shipped wait-event catalogue against pg_wait_events', () => {
  it.skipIf(major < WAIT_EVENTS_VIEW_MIN_MAJOR)(
    'describes every built-in event the server lists',
    async () => {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      let versionNumber: number;
      let rows: { type: string; name: string }[];
      try {
        versionNumber = Number(
          (await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v"))
            .rows[0]?.v,
        );
        rows = (await client.query<{ type: string; name: string }>(waitEventsSql())).rows;
      } finally {
        await client.end();
      }
      // Extensions register their own Extension / InjectionPoint events at run time; only the
      // built-in placeholder rows (named like their type) can be in a shipped table.
      const builtIn = rows.filter(
        (r) => !(r.type === 'Extension' || r.type === 'InjectionPoint') || r.name === r.type,
      );
      const unknown = builtIn.filter((r) => waitEventDescription(r.type, r.name) === undefined);

      // A minor release of a major we generated from (or an older one) lists nothing new: all
      // must be known. A later major or minor may add events we have not shipped yet (18.4 had
      // 9 more than 17, ~3%); the collector reads the live view there anyway, so tolerate up to
      // a tenth unknown. More than that means the table, not the server, is wrong.
      const generated = WAIT_EVENT_SOURCE_VERSIONS.map(versionNum).find(
        (v) => Math.floor(v / 10_000) === major,
      );
      const newer = generated === undefined ? true : versionNumber > generated;
      expect(builtIn.length).toBeGreaterThan(100);
      if (newer) {
        expect(unknown.length).toBeLessThanOrEqual(Math.floor(builtIn.length / 10));
      } else {
        expect(unknown.map((r) => `${r.type}:${r.name}`)).toEqual([]);
      }
    },
  );
});
