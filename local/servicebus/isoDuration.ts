// ISO 8601 durations as Service Bus (and ARM) writes them: PT2M, P1D, P14D, PT0.5S,
// P10675199DT2H48M5.4775807S (TimeSpan.MaxValue). Years and months are refused: a queue setting
// in months has no fixed length, and Service Bus stores TimeSpans.

const PATTERN = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const MS = { week: 7 * 86_400_000, day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1000 };

/** Milliseconds in an ISO 8601 duration (weeks, days, hours, minutes, seconds). */
export function parseIsoDuration(text: string): number {
  const match = PATTERN.exec(text);
  if (!match || text === "P" || text.endsWith("T")) throw new RangeError(`not an ISO 8601 duration (PnDTnHnMnS): '${text}'`);
  const [, weeks, days, hours, minutes, seconds] = match;
  const part = (value: string | undefined, unit: number): number => (value === undefined ? 0 : Number(value) * unit);
  // Whole milliseconds, truncated: TimeSpan.MaxValue is 922337203685477.5807 ms, the SDK's maxDurationValue ...477.
  return Math.floor(part(weeks, MS.week) + part(days, MS.day) + part(hours, MS.hour) + part(minutes, MS.minute) + part(seconds, MS.second));
}
