/**
 * An answer's output parts as the page keeps them: images fetched (with the key) into data
 * URLs, each fetched once however often the answer is redrawn while it grows, and each
 * carrying its reference (generation, index) for the next turn.
 */
import { type ApiClient, ApiProblem } from './api.js';
import type { StoredPart } from './gallery.js';
import { readAsDataUrl } from './inputs.js';
import type { OutputPart } from './schemas.js';

export class OutputImages {
  private readonly fetched = new Map<string, Promise<string>>();

  constructor(
    private readonly api: ApiClient,
    private readonly signal: AbortSignal,
  ) {}

  async stored(generation: string, parts: readonly OutputPart[]): Promise<StoredPart[]> {
    let index = 0;
    return Promise.all(
      parts.map(async (part): Promise<StoredPart> => {
        if (part.type === 'text') return { type: 'text', text: part.text };
        const ref = { generation, index: index++ };
        let src = this.fetched.get(part.url);
        if (!src) {
          src = this.fetchOne(part.url);
          this.fetched.set(part.url, src);
        }
        return { type: 'image', src: await src, ref };
      }),
    );
  }

  private async fetchOne(path: string): Promise<string> {
    const url = this.api.url(path);
    if (url.origin === location.origin) {
      // Through the API client, as every same-origin call (signed file URLs need no key).
      const res = await this.api.fetch(url.pathname + url.search, { signal: this.signal });
      if (!res.ok) throw new ApiProblem(res.status, 'image_unavailable', `the image could not be loaded (${res.status})`);
      return readAsDataUrl(await res.blob());
    }
    // Another origin (presigned S3): kept as a data URL where CORS allows, else as its URL, which an <img> loads anyway.
    try {
      const res = await fetch(url, { signal: this.signal });
      if (res.ok) return await readAsDataUrl(await res.blob());
    } catch (err) {
      if (this.signal.aborted) throw err;
    }
    return url.href;
  }
}
