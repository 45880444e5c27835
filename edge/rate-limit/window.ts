/**
 * The per-tenant rate limit as a sliding window over two fixed one-minute windows (the
 * estimate Cloudflare and nginx use): the previous window's count weighs what is left of it
 * in the sliding minute, so a burst at a window's edge cannot pass twice the limit.
 * Pure: both limiters (memory, store) decide with these functions.
 */

export const WINDOW_MS = 60_000;

/** A tenant's counts: allowed requests in window `index` (floor(now / WINDOW_MS)) and in the one before. */
export interface WindowCounts {
  index: number;
  current: number;
  previous: number;
}

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

/** The counts seen from window `index`: rolled forward when time has moved on. */
export function rollTo(counts: WindowCounts | undefined, index: number): WindowCounts {
  if (!counts || counts.index < index - 1) return { index, current: 0, previous: 0 };
  if (counts.index === index - 1) return { index, current: 0, previous: counts.current };
  return counts;
}

/** Requests in the sliding minute ending at `nowMs`, as estimated from the two windows. */
export function estimate(counts: WindowCounts, nowMs: number): number {
  const elapsed = (nowMs - counts.index * WINDOW_MS) / WINDOW_MS;
  return counts.previous * (1 - elapsed) + counts.current;
}

/**
 * Whether one more request may pass at `nowMs` (counts already rolled to now's window); a
 * refused request is not counted, so a client that keeps retrying is not kept out longer.
 */
export function decide(counts: WindowCounts, limit: number, nowMs: number): RateDecision {
  const seen = estimate(counts, nowMs);
  if (seen + 1 <= limit) return { allowed: true, remaining: Math.max(0, Math.floor(limit - seen - 1)) };
  return { allowed: false, retryAfterSeconds: retryAfter(counts, limit, nowMs) };
}

/** Whole seconds until one more request would pass, if no other passes meanwhile (at least 1). */
export function retryAfter(counts: WindowCounts, limit: number, nowMs: number): number {
  const start = counts.index * WINDOW_MS;
  const elapsed = nowMs - start;
  let waitMs: number;
  // Within this window, the previous window's share shrinks as the minute slides.
  const room = limit - 1 - counts.current;
  if (room >= 0 && counts.previous > 0) {
    waitMs = WINDOW_MS * (1 - room / counts.previous) - elapsed;
  } else {
    // Not before the next window, where this window's count is the one that shrinks.
    const intoNext = counts.current > limit - 1 ? WINDOW_MS * (1 - (limit - 1) / counts.current) : 0;
    waitMs = WINDOW_MS - elapsed + intoNext;
  }
  return Math.max(1, Math.ceil(waitMs / 1000));
}
