/** Double-quotes an identifier for SQL. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `metrics."<table>"`: where a probe's rows live. */
export function metricsTable(table: string): string {
  return `metrics.${ident(table)}`;
}
