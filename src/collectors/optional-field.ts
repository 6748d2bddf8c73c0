/**
 * `{ [key]: value }`, or `{}` when the value is NULL or missing: model fields are optional
 * rather than null, so JSON output carries no empty keys.
 */
export function opt<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
