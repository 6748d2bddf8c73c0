const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;

/**
 * Parses `30s`, `10m`, `1500ms`, `1h`, or a bare number of seconds (as the New Relic agent
 * and most CLIs accept). Returns undefined for anything else so callers can name the key.
 */
export function parseDurationMs(input: string | number): number | undefined {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input >= 0 ? input * 1000 : undefined;
  }
  const match = DURATION.exec(input.trim());
  if (match === null) {
    return undefined;
  }
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = UNIT_MS[unit];
  return factor === undefined ? undefined : Math.round(value * factor);
}

/** Formats milliseconds the way config accepts them, for logs and `validate` output. */
export function formatDurationMs(ms: number): string {
  for (const [unit, factor] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= factor && ms % factor === 0) {
      return `${ms / factor}${unit}`;
    }
  }
  return `${ms}ms`;
}
