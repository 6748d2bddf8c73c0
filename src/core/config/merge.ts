function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * An own, plain property even for `__proto__`: a YAML key of that name, assigned the usual way,
 * would set the merged object's prototype instead, and its elements would surface as inherited
 * keys (the config fuzzer's seed 20261122 found `__proto__: [""]` reported as an unknown `"0"`).
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/**
 * Later layers win key by key; arrays and scalars are replaced whole (a `targets` list from the
 * environment replaces the file's, it does not append to it).
 */
export function deepMerge(...layers: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) {
        continue;
      }
      const current = Object.hasOwn(out, key) ? out[key] : undefined;
      setOwn(
        out,
        key,
        isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value,
      );
    }
  }
  return out;
}

/** Sets `value` at `path`, creating objects on the way. */
export function setPath(
  target: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): void {
  let node = target;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      setOwn(node, key, value);
      return;
    }
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (!isPlainObject(next)) {
      setOwn(node, key, {});
    }
    node = node[key] as Record<string, unknown>;
  });
}
