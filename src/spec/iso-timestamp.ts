/**
 * `new Date(milliseconds).toISOString()`, with the text up to the second kept from the previous call: a busy
 * gateway dates many ledger rows within one second, and formatting a date from scratch was about 1 % of a
 * request's CPU. Times whose text is not of the usual 24 characters (years before 0 or after 9999) and fractional
 * milliseconds are formatted by `toISOString` itself.
 */
export function isoTimestamp(milliseconds: number): string {
  const second = Math.floor(milliseconds / 1000);
  const withinSecond = milliseconds - second * 1000;
  if (second !== cachedSecond) {
    const text = new Date(second * 1000).toISOString();
    // "YYYY-MM-DDTHH:MM:SS." from the usual form "YYYY-MM-DDTHH:MM:SS.000Z"; any other form is not cached.
    cachedPrefix = text.length === 24 ? text.slice(0, 20) : undefined;
    cachedSecond = second;
  }
  if (cachedPrefix === undefined || !Number.isInteger(withinSecond)) return new Date(milliseconds).toISOString();
  return `${cachedPrefix}${withinSecond < 10 ? '00' : withinSecond < 100 ? '0' : ''}${withinSecond}Z`;
}

let cachedSecond = Number.NaN;
let cachedPrefix: string | undefined;
