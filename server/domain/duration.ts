/** Durations in config and API: "90s", "15m", "12h", "7d", "500ms"; "0" means never / disabled. */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;

/**
 * The longest duration accepted: 100 years ("36500d"). Longer ones are typos ("0" is never):
 * added to the clock they overflow what a Date can hold, so a session or a lock ending then
 * could not be shown or stored (a login failed with 500).
 */
export const MAX_DURATION_MS = 36_500 * UNIT_MS.d;

/** Milliseconds, 0 for "0", or null when the text is not a duration (or is longer than MAX_DURATION_MS). */
export function parseDuration(text: string): number | null {
  if (text === '0') return 0;
  const m = DURATION.exec(text);
  if (!m) return null;
  const unit = m[2] as keyof typeof UNIT_MS;
  const ms = Number(m[1]) * UNIT_MS[unit];
  return ms <= MAX_DURATION_MS ? ms : null;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
