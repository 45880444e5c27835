/**
 * This browser's generations, in localStorage: the request (to run it again) and the answer
 * with its images as data URLs (a 64 x 64 PNG is a few kB; URLs may need a key or expire).
 * When storage is full the oldest entries go first.
 */
import * as z from 'zod/mini';

const STORAGE_KEY = 'playground.gallery.v1';
const MAX_ENTRIES = 60;

export const Settings = z.object({ steps: z.optional(z.number()), guidance: z.optional(z.number()), seed: z.optional(z.number()) });
export type Settings = z.infer<typeof Settings>;

export const StoredPart = z.union([
  z.object({ type: z.literal('text'), text: z.string() }),
  /** `src`: a data URL, or the image's own URL where it could not be fetched (another origin without CORS). */
  z.object({ type: z.literal('image'), src: z.string() }),
]);
export type StoredPart = z.infer<typeof StoredPart>;

export const GalleryEntry = z.object({
  id: z.string(),
  createdAt: z.string(),
  model: z.string(),
  prompt: z.string(),
  /** Input images as data URLs (a describe request's image). */
  inputs: z.array(z.string()),
  settings: Settings,
  status: z.string(),
  output: z.array(StoredPart),
});
export type GalleryEntry = z.infer<typeof GalleryEntry>;

export class Gallery {
  private entries: GalleryEntry[] = [];

  constructor(private readonly storage: Storage = localStorage) {
    try {
      const parsed = z.array(GalleryEntry).safeParse(JSON.parse(storage.getItem(STORAGE_KEY) ?? '[]'));
      this.entries = parsed.success ? parsed.data : [];
    } catch {
      this.entries = [];
    }
  }

  list(): readonly GalleryEntry[] {
    return this.entries;
  }

  get(id: string): GalleryEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  /** Adds or replaces (same id) at the front. */
  put(entry: GalleryEntry): void {
    this.entries = [entry, ...this.entries.filter((e) => e.id !== entry.id)].slice(0, MAX_ENTRIES);
    this.save();
  }

  remove(id: string): void {
    this.entries = this.entries.filter((e) => e.id !== id);
    this.save();
  }

  clear(): void {
    this.entries = [];
    this.save();
  }

  private save(): void {
    for (;;) {
      try {
        this.storage.setItem(STORAGE_KEY, JSON.stringify(this.entries));
        return;
      } catch {
        // Quota: drop the oldest and try again; an empty gallery always fits.
        if (this.entries.length === 0) return;
        this.entries = this.entries.slice(0, -1);
      }
    }
  }
}
