import fc from 'fast-check';
import { stringify } from 'yaml';
import { builtinCollectorNames } from '../../../src/collectors/builtin-collectors.js';
import { ENV_BINDINGS } from '../../../src/core/config/env-overrides.js';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  MODES,
  OUTPUT_FORMATS,
  QUERY_TEXT_MODES,
  SSL_MODES,
} from '../../../src/core/config/modes.js';

/** Values a careless or hostile user types: empty, numeric-looking, quotes, escapes, Unicode. */
const WEIRD_TEXT = [
  '',
  ' ',
  '\t',
  '0',
  '-1',
  '1e400',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x1F',
  'null',
  '~',
  'true',
  'yes',
  'off',
  "'",
  '"',
  '\\',
  '%',
  '%ZZ',
  '%E0%A4',
  '\u0007\u001b[31m',
  'Zürich "prod".db',
  '日本',
  '🐘💥',
  '\ud800',
  'a'.repeat(5_000),
  '${HOME}',
  '$(id)',
  '../../etc',
  'postgres://',
  'postgres://u:%ZZ@h/db',
  'postgres://u%E0@h/db',
  'postgres://h/%E0%A4',
  'postgres://[::1/db',
  'postgres://h:99999/db',
  'postgres://h:0/db?sslmode=nope&foo=1',
  'postgresql://u@127.0.0.1:1/db?host=%2Ftmp',
  'http://',
  'http://[::1',
  'grpc://x',
  'embedded',
];

const DURATION_TEXT = [
  '30s',
  '1s',
  '500ms',
  '10m',
  '1h',
  '24d',
  '25d',
  '0s',
  '0',
  '-5s',
  '-1',
  '1.5s',
  '99ms',
  '1e3s',
  '3650d',
  '9999999999d',
  '1 s',
  '1S',
  '5 minutes',
];

export const weirdString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...WEIRD_TEXT) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);

export const weirdNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.integer({ min: -2, max: 70_000 }),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    -1,
    0.5,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 31,
    2 ** 64,
    65_536,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ),
);

/** Anything at all: scalars, lists and mappings, a little nested. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: weirdString },
  { weight: 3, arbitrary: weirdNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.array(weirdString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(weirdString, weirdString, { maxKeys: 3 }) },
);

/** Mostly a valid value, sometimes anything. */
function field<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
}

const durationValue = field(
  fc.oneof(
    fc.constantFrom(...DURATION_TEXT),
    fc.integer({ min: -10, max: 100_000 }),
    fc.double({ min: -1, max: 1e7, noNaN: true }),
  ),
);

const intValue = (min: number, max: number) =>
  field(
    fc.oneof(
      fc.integer({ min, max }),
      fc.constantFrom(min - 1, max + 1, min, max, (min + max) / 2 + 0.5),
    ),
  );

const boolValue = field(fc.boolean());
const enumValue = (values: readonly string[]) =>
  field(
    fc.oneof(
      fc.constantFrom(...values),
      fc.constantFrom(...values).map((v) => v.toUpperCase()),
    ),
  );
const textValue = field(fc.oneof(fc.constantFrom('x', 'pgquerylens', 'db1'), weirdString));

/** A password no other generated text contains, so its absence from output proves masking. */
export const PASSWORD_MARK = 'Pw9q';
export const passwordValue: fc.Arbitrary<string> = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 6, maxLength: 6 }),
    fc.constantFrom('', '#', '@:/', '%', 'ü"'),
  )
  .map(([hex, tail]) => `${PASSWORD_MARK}${hex}${tail}`);

const urlValue = field(
  fc.oneof(
    fc.constantFrom(...WEIRD_TEXT.filter((t) => t.startsWith('postgres'))),
    fc
      .tuple(
        fc.constantFrom('postgres', 'postgresql', 'mysql', 'http'),
        fc.option(fc.constantFrom('u', 'mon%20itor', 'ü'), { nil: undefined }),
        fc.option(passwordValue, { nil: undefined }),
        fc.constantFrom('127.0.0.1', 'localhost', '[::1]', 'db.internal', 'xn--nxa', '%E0'),
        fc.option(fc.integer({ min: -1, max: 70_000 }), { nil: undefined }),
        fc.constantFrom('', '/postgres', '/Zürich%20db', '/%E0%A4', '/a/b'),
        fc.constantFrom('', '?sslmode=require', '?sslmode=bogus', '?application_name=x', '?x=1'),
      )
      .map(
        ([scheme, user, pw, host, port, db, query]) =>
          `${scheme}://${user ?? ''}${pw === undefined ? '' : `:${encodeURIComponent(pw)}`}${user === undefined && pw === undefined ? '' : '@'}${host}${port === undefined ? '' : `:${port}`}${db}${query}`,
      ),
  ),
);

const connectionFields = {
  maxConnections: intValue(1, 100),
  maxConcurrentQueries: intValue(1, 50),
  statementTimeout: durationValue,
  lockTimeout: durationValue,
  connectTimeout: durationValue,
};

/** Sometimes adds a key the schema does not know. */
function withStrays(
  base: fc.Arbitrary<Record<string, unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      base,
      fc.option(fc.dictionary(weirdString, anyValue, { minKeys: 1, maxKeys: 2 }), {
        freq: 6,
        nil: undefined,
      }),
    )
    .map(([b, extra]) => ({ ...extra, ...b }));
}

function section(
  fields: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  return withStrays(fc.record(fields, { requiredKeys: [] }));
}

const target = section({
  name: field(fc.constantFrom('db1', 'orders-primary', 'a:b@c', 'bad name', '')),
  type: enumValue(['postgresql', 'pgbouncer']),
  url: urlValue,
  host: field(fc.constantFrom('127.0.0.1', 'localhost', '::1', 'db.internal')),
  port: intValue(1, 65535),
  user: textValue,
  password: field(passwordValue),
  passwordFile: textValue,
  passwordEnv: field(fc.constantFrom('PGQUERYLENS_FUZZ_PW', 'UNSET_VAR', 'HOME')),
  database: textValue,
  sslmode: enumValue(SSL_MODES),
  sslrootcert: textValue,
  databases: field(fc.oneof(fc.constant('all'), fc.array(textValue, { maxLength: 3 }))),
  excludeDatabases: field(fc.array(textValue, { maxLength: 3 })),
  labels: field(fc.dictionary(weirdString, weirdString, { maxKeys: 3 })),
  ...connectionFields,
});

const collectorName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...builtinCollectorNames()) },
  { weight: 1, arbitrary: fc.constantFrom('ash', 'pg_stat_statement', '__proto__', 'constructor') },
  { weight: 1, arbitrary: weirdString },
);

const collectors = fc.dictionary(
  collectorName,
  field(
    section({
      enabled: boolValue,
      interval: durationValue,
      statementTimeout: durationValue,
      timeout: durationValue,
      retention: durationValue,
    }),
  ),
  { maxKeys: 4 },
);

const queryPerformance = section({
  queryText: enumValue(QUERY_TEXT_MODES),
  queryTextMaxLength: intValue(64, 1_000_000),
  slowQueries: field(section({ limit: intValue(1, 500) })),
  ash: field(
    section({
      interval: durationValue,
      timeout: durationValue,
      bufferSessions: intValue(1_000, 50_000_000),
      rawSamples: boolValue,
    }),
  ),
  plans: field(
    section({
      maxPerCycle: intValue(0, 1_000),
      explainFunction: field(fc.constantFrom('pgquerylens.explain_statement', 'x; DROP', 'A.b')),
    }),
  ),
  regression: field(section({ ratio: field(weirdNumber), minExtraPerHour: durationValue })),
});

const nri = section({
  protocol: field(fc.constantFrom(3, 4, 5, '3')),
  daemon: boolValue,
  stateTtl: durationValue,
  burst: field(section({ samples: intValue(0, 100), interval: durationValue })),
  collection: field(
    fc.dictionary(weirdString, fc.dictionary(weirdString, anyValue, { maxKeys: 2 }), {
      maxKeys: 2,
    }),
  ),
  queryMonitoring: field(
    section({ countThreshold: intValue(1, 30), responseTimeThreshold: field(weirdNumber) }),
  ),
});

const otlpCommon = {
  enabled: boolValue,
  protocol: enumValue(['grpc', 'http/protobuf', 'http/json']),
  endpoint: field(
    fc.constantFrom('http://127.0.0.1:1', 'localhost:4317', 'https://x/v1', 'ftp://x'),
  ),
  headers: field(fc.dictionary(weirdString, weirdString, { maxKeys: 2 })),
  timeout: durationValue,
  compression: enumValue(['gzip', 'none']),
};

const otlp = section({
  ...otlpCommon,
  exportInterval: durationValue,
  serviceName: textValue,
  resourceAttributes: field(fc.dictionary(weirdString, weirdString, { maxKeys: 2 })),
  cardinalityLimit: intValue(100, 10_000_000),
  certificate: textValue,
  insecure: boolValue,
  selfMetrics: boolValue,
  logs: field(
    section({
      ...otlpCommon,
      attributeValueLengthLimit: intValue(64, 1_048_576),
      maxQueueSize: intValue(1, 1_000_000),
      events: field(section({ topQueries: boolValue, ashSamples: boolValue })),
    }),
  ),
});

/** A configuration object shaped like the schema, each value valid or not, strays mixed in. */
export const configObject: fc.Arbitrary<Record<string, unknown>> = section({
  mode: enumValue(MODES),
  interval: durationValue,
  targets: field(fc.array(field(target), { maxLength: 3 })),
  connection: field(section(connectionFields)),
  collectors: field(collectors),
  queryPerformance: field(queryPerformance),
  nri: field(nri),
  customQueries: field(
    section({
      metricsQuery: textValue,
      queries: field(
        fc.array(
          section({
            query: textValue,
            database: textValue,
            metricTypes: field(fc.dictionary(weirdString, fc.constantFrom('gauge', 'rate', 'x'))),
            sampleName: field(fc.constantFrom('MySample', '1bad', 'has space')),
          }),
          { maxLength: 2 },
        ),
      ),
      timeout: durationValue,
    }),
  ),
  otlp: field(otlp),
  telemetry: field(
    section({
      enabled: boolValue,
      host: textValue,
      port: intValue(0, 65_535),
      prometheus: boolValue,
    }),
  ),
  sharding: field(section({ shards: intValue(1, 1000), shard: intValue(0, 999) })),
  output: field(
    section({
      format: enumValue(OUTPUT_FORMATS),
      path: field(fc.constantFrom('-', 'out.ndjson', 'sub/dir/out.ndjson')),
      spoolDir: field(fc.constantFrom('spool', 'a/b')),
    }),
  ),
  export: field(
    section({
      timeout: durationValue,
      queueSize: intValue(1, 100_000),
      maxRetries: intValue(0, 1000),
      retryInitial: durationValue,
      retryMax: durationValue,
    }),
  ),
  datastore: field(
    section({
      url: urlValue,
      maxConnections: intValue(1, 500),
      bufferRows: intValue(1_000, 100_000_000),
      spoolMaxMb: intValue(1, 1_048_576),
      refresh: durationValue,
    }),
  ),
  log: field(section({ level: enumValue(LOG_LEVELS), format: enumValue(LOG_FORMATS) })),
  shutdownTimeout: durationValue,
});

const ALIAS_BOMB = [
  'a: &a [x, x, x, x, x, x, x, x, x]',
  'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
  'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
  'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
].join('\n');

/** YAML text a user might hand over: the object serialized, damaged, or hostile YAML. */
export const configText: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: configObject.map((o) => stringify(o)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(configObject, fc.nat(), fc.constantFrom('', '\t', ': :', '\n  - ', '"', '&x *y'))
      .map(([o, cut, junk]) => {
        const text = stringify(o);
        const at = text.length === 0 ? 0 : cut % text.length;
        return text.slice(0, at) + junk + text.slice(at);
      }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ALIAS_BOMB,
      'interval: !!binary aGVsbG8=\n',
      'targets: !!set {a, b}\n',
      '? [a, b]\n: 1\n',
      '<<: {mode: nri}\n',
      'mode: otel\nmode: nri\n',
      '- just\n- a list\n',
      '42\n',
      '',
      '\ufeffmode: otel\n',
      'interval: .nan\nshutdownTimeout: -.inf\n',
      'targets:\n  - host: x\n    port: 1e400\n',
      'a: !foo bar\n',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

/** Every OTEL_* variable the loader reads. */
export const OTEL_VARS: readonly string[] = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_OTLP_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_KEY',
  'OTEL_EXPORTER_OTLP_INSECURE',
  ...['METRICS', 'LOGS'].flatMap((signal) =>
    ['ENDPOINT', 'PROTOCOL', 'HEADERS', 'TIMEOUT', 'COMPRESSION', 'INSECURE'].map(
      (name) => `OTEL_EXPORTER_OTLP_${signal}_${name}`,
    ),
  ),
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
];

/** nri-postgresql's and the agent's variables, read in the nri and hybrid modes. */
const NRI_VARS = [
  'USERNAME',
  'PASSWORD',
  'PORT',
  'DATABASE',
  'COLLECTION_LIST',
  'ENABLE_SSL',
  'TIMEOUT',
  'CUSTOM_METRICS_QUERY',
  'CUSTOM_METRICS_CONFIG',
  'ENABLE_QUERY_MONITORING',
  'QUERY_MONITORING_COUNT_THRESHOLD',
  'NRI_CONFIG_INTERVAL',
  'VERBOSE',
];

export const ENV_VARS: readonly string[] = [
  ...Object.keys(ENV_BINDINGS),
  'PGQUERYLENS_PASSWORD',
  'PGQUERYLENS_PASSWORD_FILE',
  'PGQUERYLENS_TARGETS_FILE',
  'PGQUERYLENS_DATASTORE_URL_FILE',
  ...OTEL_VARS,
  ...NRI_VARS,
];

/** Values for variables: plausible ones for their kind, paths, and junk. */
const envValue = (configPath: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: weirdString },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'otel',
        'nri',
        'hybrid',
        '15s',
        '-5s',
        '3',
        '0',
        '65536',
        'true',
        'maybe',
        'grpc',
        'http/json',
        'gzip',
        'k=v,k2=%ZZ',
        '=v',
        'http://127.0.0.1:1',
        'localhost:4317',
        '["postgres"]',
        'ALL',
        '{"db":{"public":{"t":["i"]}}}',
        '{not json',
        'postgres://u@127.0.0.1:1/db postgres://u@127.0.0.1:1/db',
        '/nonexistent/file',
        '/tmp',
        configPath,
      ),
    },
  );

/** Variables whose values are secrets (and so must never be echoed). */
const SECRET_VARS = new Set(['PGQUERYLENS_PASSWORD', 'PASSWORD']);
const URL_VARS = new Set(['PGQUERYLENS_TARGETS', 'PGQUERYLENS_DATASTORE_URL']);

function valueFor(name: string, configPath: string): fc.Arbitrary<string> {
  if (SECRET_VARS.has(name)) return fc.oneof(passwordValue, envValue(configPath));
  if (URL_VARS.has(name)) {
    return fc.oneof(
      fc
        .array(
          urlValue.filter((u): u is string => typeof u === 'string'),
          {
            minLength: 1,
            maxLength: 2,
          },
        )
        .map((urls) => urls.join(',')),
      envValue(configPath),
    );
  }
  return envValue(configPath);
}

/** A random environment over the variables above (no NUL: a process cannot carry one). */
export const environment = (configPath: string): fc.Arbitrary<Record<string, string>> =>
  fc
    .uniqueArray(fc.constantFrom(...ENV_VARS), { maxLength: 5 })
    .chain((names) =>
      fc
        .tuple(...names.map((name) => valueFor(name, configPath)))
        .map((values) =>
          Object.fromEntries(
            names.map((name, i) => [name, (values[i] ?? '').replaceAll('\0', '')]),
          ),
        ),
    );

/** A configuration that is valid as generated: the base that single mutations start from. */
const validConfig: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    mode: fc.constantFrom(...MODES),
    interval: fc.constantFrom('10s', '30s', '1m', 15),
    targets: fc.integer({ min: 1, max: 3 }).map((n) =>
      Array.from({ length: n }, (_, i) => ({
        name: `t${i}`,
        url: `postgres://monitor@127.0.0.1:5432/db${i}`,
        labels: { env: 'fuzz' },
      })),
    ),
    connection: fc.record(
      { maxConnections: fc.integer({ min: 1, max: 100 }), statementTimeout: fc.constant('5s') },
      { requiredKeys: [] },
    ),
    collectors: fc.dictionary(
      fc.constantFrom(...builtinCollectorNames()),
      fc.record(
        { enabled: fc.boolean(), interval: fc.constantFrom('1m', '5s') },
        { requiredKeys: [] },
      ),
      { maxKeys: 3 },
    ),
    queryPerformance: fc.record(
      {
        ash: fc.record({ interval: fc.constantFrom('1s', '500ms') }),
        slowQueries: fc.record({ limit: fc.integer({ min: 1, max: 500 }) }),
      },
      { requiredKeys: [] },
    ),
    otlp: fc.record(
      {
        protocol: fc.constantFrom('grpc', 'http/protobuf', 'http/json'),
        endpoint: fc.constant('http://127.0.0.1:4317'),
        timeout: fc.constant('5s'),
      },
      { requiredKeys: [] },
    ),
    nri: fc.record({ protocol: fc.constantFrom(3, 4) }),
    export: fc.record({ queueSize: fc.integer({ min: 1, max: 100_000 }) }),
    log: fc.record(
      { level: fc.constantFrom(...LOG_LEVELS), format: fc.constantFrom(...LOG_FORMATS) },
      { requiredKeys: [] },
    ),
    shutdownTimeout: fc.constant('10s'),
  },
  { requiredKeys: ['targets'] },
);

/** Key paths a single mutation may hit: real keys at every depth, and keys that do not exist. */
const MUTATION_PATHS: readonly (readonly (string | number)[])[] = [
  ['mode'],
  ['interval'],
  ['targets'],
  ['targets', 0],
  ['targets', 0, 'url'],
  ['targets', 0, 'port'],
  ['targets', 0, 'name'],
  ['targets', 0, 'labels'],
  ['targets', 0, 'sslmode'],
  ['targets', 0, 'databases'],
  ['targets', 0, 'statementTimeout'],
  ['targets', 0, 'passwordFile'],
  ['connection', 'maxConcurrentQueries'],
  ['collectors', 'pg_settings', 'interval'],
  ['collectors', 'pg_settings', 'retention'],
  ['collectors', 'nope', 'enabled'],
  ['queryPerformance', 'ash', 'interval'],
  ['queryPerformance', 'queryTextMaxLength'],
  ['queryPerformance', 'plans', 'explainFunction'],
  ['otlp', 'endpoint'],
  ['otlp', 'headers'],
  ['otlp', 'logs', 'maxQueueSize'],
  ['nri', 'protocol'],
  ['nri', 'burst', 'interval'],
  ['export', 'maxRetries'],
  ['telemetry', 'port'],
  ['sharding', 'shards'],
  ['output', 'format'],
  ['datastore', 'url'],
  ['customQueries', 'queries'],
  ['log', 'level'],
  ['shutdownTimeout'],
  ['bogusKey'],
  ['otlp', 'bogusKey'],
  ['targets', 0, 'bogusKey'],
];

function withValueAt(
  config: Record<string, unknown>,
  path: readonly (string | number)[],
  value: unknown,
): Record<string, unknown> {
  const copy = structuredClone(config);
  let node: Record<string | number, unknown> = copy;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (next === null || typeof next !== 'object') {
      node[key] = typeof path[i + 1] === 'number' ? [] : {};
    }
    node = node[key] as Record<string | number, unknown>;
  });
  return copy;
}

/** A valid configuration, or one with a single key changed to anything at all. */
export const nearValidConfig: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  validConfig,
  fc
    .tuple(validConfig, fc.constantFrom(...MUTATION_PATHS), anyValue)
    .map(([config, path, value]) => withValueAt(config, path, value)),
);

/** One fuzz case: a file's text and the environment beside it. */
export function fuzzCase(configPath: string): fc.Arbitrary<[string, Record<string, string>]> {
  return fc.oneof(
    {
      weight: 1,
      arbitrary: fc.tuple(
        nearValidConfig.map((o) => stringify(o)),
        fc.oneof(fc.constant({}), environment(configPath)),
      ),
    },
    { weight: 2, arbitrary: fc.tuple(configText, environment(configPath)) },
  );
}

/** The same as objects, for runs that make the targets safe before writing the file. */
export function fuzzObjectCase(
  configPath: string,
): fc.Arbitrary<[Record<string, unknown>, Record<string, string>]> {
  return fc.oneof(
    fc.tuple(nearValidConfig, fc.oneof(fc.constant({}), environment(configPath))),
    fc.tuple(configObject, environment(configPath)),
  );
}
