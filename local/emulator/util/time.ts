// Time formats seen in real traffic.

/** Operation-status times: `2021-10-27T02:22:41.2522380+00:00` (7 fractional digits, explicit offset). */
export function opTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2021-10-27T02:22:41.252Z
  return `${iso.slice(0, 23)}0000+00:00`;
}

/** Resource timestamps (publishedDate, createdOn): ISO 8601 UTC with 7 fractional digits and `Z`. */
export function resourceTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}0000Z`;
}
