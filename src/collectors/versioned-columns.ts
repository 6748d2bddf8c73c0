/** A view column and the first major version that has it. */
export interface VersionedColumn {
  readonly name: string;
  /** First major with the column; omitted means every supported version (12+). */
  readonly since?: number;
  /** Last major with the column, for columns that were removed. */
  readonly until?: number;
}

/** The columns present on `major`, for a SELECT list; chosen by version, never by trying. */
export function columnsFor(columns: readonly VersionedColumn[], major: number): string[] {
  return columns
    .filter(
      (c) =>
        (c.since === undefined || major >= c.since) && (c.until === undefined || major <= c.until),
    )
    .map((c) => c.name);
}
