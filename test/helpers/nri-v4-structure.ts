/**
 * A structural checker of New Relic infrastructure protocol 4 documents, written from the
 * protocol (the agent's `pkg/integrations/v4/protocol` types), independent of the adapter's
 * own types: it takes parsed JSON and lists every problem it finds.
 */

/** Metric types the agent accepts in protocol 4. */
const METRIC_TYPES = new Set([
  'gauge',
  'count',
  'summary',
  'cumulative-count',
  'rate',
  'cumulative-rate',
  'prometheus-summary',
  'prometheus-histogram',
]);

const DOCUMENT_KEYS = new Set(['protocol_version', 'integration', 'data']);
const DATASET_KEYS = new Set([
  'common',
  'entity',
  'metrics',
  'inventory',
  'events',
  'ignore_entity',
]);
const METRIC_KEYS = new Set(['name', 'type', 'value', 'attributes', 'interval.ms', 'timestamp']);

/** The agent truncates inventory keys beyond this. */
const MAX_INVENTORY_KEY = 375;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Problems of an attribute map: must be an object of scalars. */
function checkAttributes(value: unknown, where: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${where}: attributes must be an object`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (key === '') problems.push(`${where}: empty attribute name`);
    if (!isScalar(v)) problems.push(`${where}.${key}: not a scalar (${JSON.stringify(v)})`);
  }
}

function checkUnknownKeys(
  value: Record<string, unknown>,
  allowed: Set<string>,
  where: string,
  problems: string[],
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) problems.push(`${where}: unexpected key ${key}`);
  }
}

function checkCommon(value: unknown, where: string, problems: string[]): number | undefined {
  if (!isObject(value)) {
    problems.push(`${where}: common must be an object`);
    return undefined;
  }
  const ts = value.timestamp;
  if (typeof ts !== 'number' || !Number.isInteger(ts) || ts <= 0) {
    problems.push(`${where}.timestamp: must be a positive integer of ms`);
  }
  const interval = value['interval.ms'];
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) {
    problems.push(`${where}["interval.ms"]: must be a positive number`);
  }
  checkAttributes(value.attributes, `${where}.attributes`, problems);
  return typeof interval === 'number' ? interval : undefined;
}

function checkEntity(value: unknown, where: string, problems: string[]): string | undefined {
  if (!isObject(value)) {
    problems.push(`${where}: entity must be an object`);
    return undefined;
  }
  if (!nonEmptyString(value.name)) problems.push(`${where}.name: must be a non-empty string`);
  if (!nonEmptyString(value.type)) problems.push(`${where}.type: must be a non-empty string`);
  if (typeof value.displayName !== 'string')
    problems.push(`${where}.displayName: must be a string`);
  checkAttributes(value.metadata, `${where}.metadata`, problems);
  return typeof value.name === 'string' ? value.name : undefined;
}

function checkMetric(
  value: unknown,
  where: string,
  commonInterval: number | undefined,
  problems: string[],
): void {
  if (!isObject(value)) {
    problems.push(`${where}: metric must be an object`);
    return;
  }
  checkUnknownKeys(value, METRIC_KEYS, where, problems);
  if (!nonEmptyString(value.name)) problems.push(`${where}.name: must be a non-empty string`);
  if (typeof value.type !== 'string' || !METRIC_TYPES.has(value.type)) {
    problems.push(`${where}.type: ${String(value.type)} is not a protocol 4 metric type`);
  }
  if (typeof value.value !== 'number' || !Number.isFinite(value.value)) {
    problems.push(`${where}.value: must be a finite number`);
  }
  const interval = value['interval.ms'];
  if (interval !== undefined && (typeof interval !== 'number' || !(interval > 0))) {
    problems.push(`${where}["interval.ms"]: must be a positive number`);
  }
  if (value.type === 'count' && interval === undefined && commonInterval === undefined) {
    problems.push(`${where}: a count needs interval.ms (its own or common's)`);
  }
  checkAttributes(value.attributes, `${where}.attributes`, problems);
}

function checkInventory(value: unknown, where: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${where}: inventory must be an object`);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key.length === 0 || key.length > MAX_INVENTORY_KEY) {
      problems.push(`${where}: bad inventory key length ${key.length}`);
    }
    if (!isObject(item)) {
      problems.push(`${where}[${key}]: item must be an object`);
      continue;
    }
    for (const [field, v] of Object.entries(item)) {
      if (v !== null && !isScalar(v)) problems.push(`${where}[${key}].${field}: not a scalar`);
    }
  }
}

function checkEvent(value: unknown, where: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${where}: event must be an object`);
    return;
  }
  if (!nonEmptyString(value.summary) || value.summary.trim() === '') {
    problems.push(`${where}.summary: must be a non-empty string`);
  }
  if (value.category !== undefined && typeof value.category !== 'string') {
    problems.push(`${where}.category: must be a string`);
  }
  if (value.attributes !== undefined)
    checkAttributes(value.attributes, `${where}.attributes`, problems);
}

function checkDataset(value: unknown, where: string, problems: string[]): string | undefined {
  if (!isObject(value)) {
    problems.push(`${where}: dataset must be an object`);
    return undefined;
  }
  checkUnknownKeys(value, DATASET_KEYS, where, problems);
  const interval = checkCommon(value.common, `${where}.common`, problems);
  const name = checkEntity(value.entity, `${where}.entity`, problems);
  for (const [key, check] of [
    [
      'metrics',
      (m: unknown, i: number) => checkMetric(m, `${where}.metrics[${i}]`, interval, problems),
    ],
    ['events', (e: unknown, i: number) => checkEvent(e, `${where}.events[${i}]`, problems)],
  ] as const) {
    const list = value[key];
    if (!Array.isArray(list)) problems.push(`${where}.${key}: must be an array`);
    else list.forEach(check);
  }
  checkInventory(value.inventory, `${where}.inventory`, problems);
  if (value.ignore_entity !== undefined && typeof value.ignore_entity !== 'boolean') {
    problems.push(`${where}.ignore_entity: must be a boolean`);
  }
  return name;
}

/**
 * Every structural problem of one protocol 4 document (empty when it is well formed): keys and
 * types at each level, metric types, finite numbers, scalar attributes, non-empty event
 * summaries, entity names unique within the document, and a lossless JSON round trip.
 */
export function v4DocumentProblems(
  doc: unknown,
  expected?: { name?: string; version?: string },
): string[] {
  const problems: string[] = [];
  if (!isObject(doc)) return ['document must be an object'];
  const text = JSON.stringify(doc);
  if (JSON.stringify(JSON.parse(text)) !== text) problems.push('document does not survive JSON');
  if (text.includes('\n')) problems.push('document would not fit one line');
  checkUnknownKeys(doc, DOCUMENT_KEYS, 'document', problems);
  if (doc.protocol_version !== '4') problems.push('protocol_version must be the string "4"');
  const integration = doc.integration;
  if (
    !isObject(integration) ||
    !nonEmptyString(integration.name) ||
    typeof integration.version !== 'string'
  ) {
    problems.push('integration must be {name: non-empty string, version: string}');
  } else {
    if (expected?.name !== undefined && integration.name !== expected.name) {
      problems.push(`integration.name is ${integration.name}, expected ${expected.name}`);
    }
    if (expected?.version !== undefined && integration.version !== expected.version) {
      problems.push(`integration.version is ${integration.version}, expected ${expected.version}`);
    }
  }
  if (!Array.isArray(doc.data) || doc.data.length === 0) {
    problems.push('data must be a non-empty array');
    return problems;
  }
  const names = new Set<string>();
  doc.data.forEach((dataset, i) => {
    const name = checkDataset(dataset, `data[${i}]`, problems);
    if (name === undefined) return;
    if (names.has(name)) problems.push(`data[${i}]: entity name ${name} repeated in the document`);
    names.add(name);
  });
  return problems;
}
