/**
 * The chaos runs' HTTP client: calls that wait out an edge that is away (a restart: a
 * refused connection) and never retry what it answered, and an image's content hash.
 */
import { createHash } from 'node:crypto';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A GET that waits out an edge restart (a refused connection), never retrying an answer. */
export async function fetchRetrying(url: URL, deadline = Date.now() + 120_000): Promise<Response> {
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

/** Retries what fails because the edge is not there (a restart), never what it answered. */
export async function call(
  base: string,
  path: string,
  init?: { method?: string; body?: unknown },
  deadline = Date.now() + 120_000,
  // biome-ignore lint/suspicious/noExplicitAny: whatever JSON the edge answered; each caller reads the fields its check needs
): Promise<{ status: number; body: any }> {
  for (;;) {
    try {
      const res = await fetch(`${base}${path}`, {
        method: init?.method ?? (init?.body === undefined ? 'GET' : 'POST'),
        ...(init?.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
      });
      return { status: res.status, body: await res.json() };
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

/** sha256 of each image part's bytes ("HTTP <status>" for one that could not be read). */
export async function imageHashes(base: string, output: { type: string; url?: string }[]): Promise<string[]> {
  const hashes: string[] = [];
  for (const part of output) {
    if (part.type !== 'image') continue;
    const res = await fetchRetrying(new URL(part.url!, base));
    hashes.push(
      res.status === 200
        ? createHash('sha256')
            .update(Buffer.from(await res.arrayBuffer()))
            .digest('hex')
        : `HTTP ${res.status}`,
    );
  }
  return hashes;
}

/** mulberry32: a small seeded PRNG, so a run's mix and timing choices repeat. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
