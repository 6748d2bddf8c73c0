/**
 * OpenTelemetry → Prometheus names, as Prometheus itself names OTLP metrics it receives with its
 * default `otlp.translation_strategy: UnderscoreEscapingWithSuffixes` (prometheus/otlptranslator).
 * Following it exactly means a dashboard works the same whether pgquerylens is scraped or pushes
 * OTLP to Prometheus.
 */

/** How the OTel instrument aggregates, which decides the `_total` and `_ratio` suffixes. */
export type OtelMetricKind = 'gauge' | 'counter' | 'updown-counter';

/** UCUM unit → Prometheus unit word; anything absent is kept as written. */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

/** The unit after `/`, singular (`By/s` → `bytes_per_second`). */
const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

/** Characters a metric-name token may hold; `_` separates tokens, so it is not one of them. */
const NOT_TOKEN_CHAR = /[^a-zA-Z0-9:]/;

/**
 * The Prometheus metric name of an OTel metric, or undefined when nothing valid is left (a name
 * of punctuation only), where Prometheus would reject the metric too.
 *
 * `postgresql.commits` (counter, `1`) → `postgresql_commits_total`; `postgresql.db_size` (`By`) →
 * `postgresql_db_size_bytes`; `postgresql.backends` (`{connection}`) → `postgresql_backends`.
 */
export function prometheusMetricName(
  name: string,
  unit: string,
  kind: OtelMetricKind,
): string | undefined {
  // Splitting on every non-token character also folds `__` and `._` runs into one separator.
  let tokens = name.split(NOT_TOKEN_CHAR).filter((t) => t !== '');
  const [main, per] = unitSuffixes(unit);
  tokens = addUnitTokens(tokens, cleanUnit(main), cleanUnit(per));
  if (kind === 'counter') tokens = [...tokens.filter((t) => t !== 'total'), 'total'];
  // Only gauges: receivers often put `1` on counts, which are not ratios.
  if (unit === '1' && kind === 'gauge') tokens = [...tokens.filter((t) => t !== 'ratio'), 'ratio'];
  let result = tokens.join('_');
  if (/^[0-9]/.test(result)) result = `_${result}`;
  if (result === '' || /^_+$/.test(result)) return undefined;
  return result;
}

/**
 * The Prometheus label name of an OTel attribute: invalid characters become `_`, a leading digit
 * or single `_` gets a `key` prefix. Undefined for an empty name or one of underscores only.
 */
export function prometheusLabelName(attribute: string): string | undefined {
  // Every series of every scrape asks again for the same few dozen names.
  if (labelNames.has(attribute)) return labelNames.get(attribute);
  const name = translateLabelName(attribute);
  // A bound, in case attributes ever carry unbounded names: start over rather than grow.
  if (labelNames.size >= LABEL_NAME_CACHE_SIZE) labelNames.clear();
  labelNames.set(attribute, name);
  return name;
}

const LABEL_NAME_CACHE_SIZE = 4_096;
const labelNames = new Map<string, string | undefined>();

function translateLabelName(attribute: string): string | undefined {
  if (attribute === '') return undefined;
  let result = attribute.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(result)) result = `key_${result}`;
  else if (result.startsWith('_') && !result.startsWith('__')) result = `key${result}`;
  if (/^_+$/.test(result)) return undefined;
  return result;
}

/** Main and `per_` suffix words of a UCUM unit; annotations (`{row}`) give none. */
function unitSuffixes(unit: string): [string, string] {
  const slash = unit.indexOf('/');
  const mainUnit = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  const perUnit = slash < 0 ? '' : unit.slice(slash + 1).trim();
  const main = mainUnit !== '' && !/[{}]/.test(mainUnit) ? (UNIT_WORDS[mainUnit] ?? mainUnit) : '';
  let per = perUnit !== '' && !/[{}]/.test(perUnit) ? (PER_UNIT_WORDS[perUnit] ?? perUnit) : '';
  if (per !== '') per = `per_${per}`;
  return [main, per];
}

/** A unit word as name characters, runs of `_` folded, no leading `_`. */
function cleanUnit(word: string): string {
  return word
    .replace(/[^a-zA-Z0-9:]/g, '_')
    .replace(/__+/g, '_')
    .replace(/^_/, '');
}

/** Appends the unit words unless the name already holds them (`time_seconds` stays so). */
function addUnitTokens(tokens: string[], mainWord: string, perWord: string): string[] {
  let main = tokens.includes(mainWord) ? '' : mainWord;
  let per = perWord === 'per_' ? '' : perWord.replace(/_$/, '');
  if (tokens.includes(per)) per = '';
  if (per !== '') main = main.replace(/_$/, '');
  const out = [...tokens];
  if (main !== '') out.push(main);
  if (per !== '') out.push(per);
  return out;
}
