const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const GO_DURATION = /^[+]?((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Parses a Go duration (`30s`, `1m0s`, `1h30m`, `500ms`; the agent writes its interval with Go's
 * `Duration.String`) to milliseconds. `0` alone is zero, as in Go; negative durations and
 * anything else are undefined.
 */
export function parseGoDurationMs(text: string): number | undefined {
  if (text === '0' || text === '+0') return 0;
  if (!GO_DURATION.test(text)) return undefined;
  let ms = 0;
  for (const match of text.matchAll(GO_DURATION_PART)) {
    const factor = UNIT_MS[match[2] ?? ''];
    if (factor === undefined) return undefined;
    ms += Number(match[1]) * factor;
  }
  return Math.round(ms);
}
