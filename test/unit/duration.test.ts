import { describe, expect, it } from 'vitest';
import { formatDurationMs, parseDurationMs } from '../../src/core/duration.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['45', 45_000],
    [15, 15_000],
  ])('%s → %d ms', (input, ms) => {
    expect(parseDurationMs(input)).toBe(ms);
  });

  it.each(['', 'soon', '10 minutes', '-5s', '1w'])('rejects %j', (input) => {
    expect(parseDurationMs(input)).toBeUndefined();
  });

  it('formats back to the largest whole unit', () => {
    expect(formatDurationMs(600_000)).toBe('10m');
    expect(formatDurationMs(90_000)).toBe('90s');
    expect(formatDurationMs(1_500)).toBe('1500ms');
  });
});
