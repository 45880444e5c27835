/**
 * This browser's conversations, in localStorage: each thread's turns (what was asked, with
 * its images, and the answer) so it can be reopened, continued or run again. Images are kept
 * as data URLs (a 64 x 64 PNG is a few kB; URLs may need a key or expire). When storage is
 * full the oldest threads go first. One-turn entries of the older format are read as
 * threads of one turn.
 */
import * as z from 'zod/mini';

const STORAGE_KEY = 'playground.gallery.v2';
const OLD_STORAGE_KEY = 'playground.gallery.v1';
const MAX_ENTRIES = 60;

export const Settings = z.object({ steps: z.optional(z.number()), guidance: z.optional(z.number()), seed: z.optional(z.number()) });
export type Settings = z.infer<typeof Settings>;

/** Where an image came from when it is one of the model's outputs: sent back as `{type: "image", generation, index}`. */
export const ImageRef = z.object({ generation: z.string(), index: z.number() });
export type ImageRef = z.infer<typeof ImageRef>;

export const StoredPart = z.union([
  z.object({ type: z.literal('text'), text: z.string() }),
  /** `src`: a data URL, or the image's own URL where it could not be fetched (another origin without CORS). */
  z.object({ type: z.literal('image'), src: z.string(), ref: z.optional(ImageRef) }),
]);
export type StoredPart = z.infer<typeof StoredPart>;

export const InputImage = z.object({ src: z.string(), ref: z.optional(ImageRef) });
export type InputImage = z.infer<typeof InputImage>;

export const Turn = z.object({
  prompt: z.string(),
  inputs: z.array(InputImage),
  settings: Settings,
  /** The generation that answered; null until the server has made one. */
  generation: z.nullable(z.string()),
  status: z.string(),
  output: z.array(StoredPart),
});
export type Turn = z.infer<typeof Turn>;

export const Thread = z.object({
  id: z.string(),
  createdAt: z.string(),
  model: z.string(),
  turns: z.array(Turn),
});
export type Thread = z.infer<typeof Thread>;

/** The format before conversations: one generation an entry. */
const OldEntry = z.object({
  id: z.string(),
  createdAt: z.string(),
  model: z.string(),
  prompt: z.string(),
  inputs: z.array(z.string()),
  settings: Settings,
  status: z.string(),
  output: z.array(
    z.union([z.object({ type: z.literal('text'), text: z.string() }), z.object({ type: z.literal('image'), src: z.string() })]),
  ),
});

function fromOld(e: z.infer<typeof OldEntry>): Thread {
  const turn: Turn = {
    prompt: e.prompt,
    inputs: e.inputs.map((src) => ({ src })),
    settings: e.settings,
    generation: e.id,
    status: e.status,
    output: e.output,
  };
  return { id: e.id, createdAt: e.createdAt, model: e.model, turns: [turn] };
}

function read<T>(storage: Storage, key: string, schema: z.ZodMiniType<T>): T[] {
  try {
    const parsed = z.array(schema).safeParse(JSON.parse(storage.getItem(key) ?? '[]'));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

export class Gallery {
  private entries: Thread[];

  constructor(private readonly storage: Storage = localStorage) {
    this.entries = read(storage, STORAGE_KEY, Thread);
    const old = read(storage, OLD_STORAGE_KEY, OldEntry);
    if (old.length > 0) {
      this.entries = [...this.entries, ...old.map(fromOld)].slice(0, MAX_ENTRIES);
      this.save();
      storage.removeItem(OLD_STORAGE_KEY);
    }
  }

  list(): readonly Thread[] {
    return this.entries;
  }

  get(id: string): Thread | undefined {
    return this.entries.find((e) => e.id === id);
  }

  /** Adds or replaces (same id) at the front: the thread last added to comes first. */
  put(thread: Thread): void {
    this.entries = [structuredClone(thread), ...this.entries.filter((e) => e.id !== thread.id)].slice(0, MAX_ENTRIES);
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
