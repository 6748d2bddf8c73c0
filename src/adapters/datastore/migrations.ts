/** One versioned, transactional change to the datastore schema. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * The datastore schema, in order. Never edit a released migration: add one. Table and column
 * names of `connections` and `probe_configs` follow the pgEdge collector's, so rows (and their
 * encrypted passwords) move between the two.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'connections, probe configuration, change tracking, ingest ledger, reader role',
    sql: `
CREATE SCHEMA IF NOT EXISTS metrics;

CREATE TABLE public.connections (
  id                 serial PRIMARY KEY,
  name               text NOT NULL,
  host               text NOT NULL,
  port               integer NOT NULL DEFAULT 5432 CHECK (port BETWEEN 1 AND 65535),
  database_name      text NOT NULL DEFAULT 'postgres',
  username           text,
  password_encrypted text,
  sslmode            text,
  sslcert            text,
  sslkey             text,
  sslrootcert        text,
  owner_username     text,
  owner_token        text,
  is_monitored       boolean NOT NULL DEFAULT true,
  enabled            boolean NOT NULL DEFAULT true,
  labels             jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- 'datastore': managed here and read as a target; 'config': a target of some collector's
  -- configuration file, registered only so its rows have a connection_id.
  source             text NOT NULL DEFAULT 'datastore' CHECK (source IN ('datastore', 'config')),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT connections_one_owner CHECK ((owner_username IS NULL) <> (owner_token IS NULL))
);
CREATE UNIQUE INDEX connections_name_key ON public.connections (name);

CREATE TABLE public.probe_configs (
  id                          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- NULL: the global setting of the probe; otherwise an override for one connection.
  connection_id               integer REFERENCES public.connections (id) ON DELETE CASCADE,
  name                        text NOT NULL,
  is_enabled                  boolean,
  collection_interval_seconds integer CHECK (collection_interval_seconds > 0),
  retention_days              integer CHECK (retention_days > 0),
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX probe_configs_global_key ON public.probe_configs (name)
  WHERE connection_id IS NULL;
CREATE UNIQUE INDEX probe_configs_connection_key ON public.probe_configs (connection_id, name)
  WHERE connection_id IS NOT NULL;

-- Last stored content of each change-tracked probe, so an unchanged sample is not stored.
CREATE TABLE public.change_tracking (
  connection_id integer NOT NULL,
  probe         text NOT NULL,
  database_name text NOT NULL DEFAULT '',
  content_hash  text NOT NULL,
  collected_at  timestamptz NOT NULL,
  PRIMARY KEY (connection_id, probe, database_name)
);

-- Batches already stored: replaying a spool or loading a file twice stores it once.
CREATE TABLE public.ingested_batches (
  batch_id    text PRIMARY KEY,
  ingested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingested_batches_time ON public.ingested_batches (ingested_at);

-- Which owners' connections a reader role may see (row-level security on metrics tables).
CREATE TABLE public.reader_grants (
  reader         name NOT NULL,
  owner_username text NOT NULL,
  PRIMARY KEY (reader, owner_username)
);

-- Runs as the schema owner, so readers need no access to connections (and its passwords).
CREATE FUNCTION public.pgquerylens_visible_connections() RETURNS SETOF integer
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
    SELECT c.id FROM public.connections c
     WHERE c.owner_username = session_user
        OR c.owner_username IN (SELECT g.owner_username FROM public.reader_grants g
                                 WHERE pg_has_role(session_user, g.reader, 'MEMBER'))
$fn$;
REVOKE ALL ON FUNCTION public.pgquerylens_visible_connections() FROM PUBLIC;

DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgquerylens_reader') THEN
    CREATE ROLE pgquerylens_reader NOLOGIN;
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'pgquerylens_reader not created (needs CREATEROLE); row-level security is off';
END
$do$;
`,
  },
  {
    version: 2,
    description: 'updated_at maintained on every change to connections and probe_configs',
    sql: `
-- Collectors re-read both tables periodically and act on rows whose updated_at moved; an
-- UPDATE by hand (psql, a UI) must move it too.
CREATE FUNCTION public.pgquerylens_touch_updated_at() RETURNS trigger
  LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$fn$;
CREATE TRIGGER connections_touch BEFORE UPDATE ON public.connections
  FOR EACH ROW EXECUTE FUNCTION public.pgquerylens_touch_updated_at();
CREATE TRIGGER probe_configs_touch BEFORE UPDATE ON public.probe_configs
  FOR EACH ROW EXECUTE FUNCTION public.pgquerylens_touch_updated_at();
`,
  },
];
