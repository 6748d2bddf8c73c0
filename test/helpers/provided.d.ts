declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test server. */
    pgUrl: string;
    /** URL of a role that has only pg_monitor, or '' when it could not be created. */
    monitorUrl: string;
    /** Extra databases created for database-scoped tests. */
    testDatabases: string[];
    /** Major version of the test server. */
    pgMajor: number;
    /** Fixtures the server could not provide (e.g. logical slots without wal_level=logical). */
    skippedFixtures: string[];
  }
}
export {};
