/**
 * Images attached to the next request: from the file picker, dropped on the drop zone
 * (files, or an image dragged from an answer), or pasted anywhere on the page. Kept as data
 * URLs (what the API takes); an answer's image also keeps its reference.
 */
import type { ImageRef } from './gallery.js';

const TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];
export const MAX_INPUTS = 4;
/** The API's per-image limit (5 MB decoded). */
const MAX_BYTES = 5 * 1024 * 1024;

export interface Attached {
  name: string;
  dataUrl: string;
  /** Set for one of the model's own images: sent as `{type: "image", generation, index}`. */
  ref?: ImageRef;
}

/** The drag data of an answer's image (its JSON: an Attached). */
export const ANSWER_IMAGE_TYPE = 'application/x-playground-image';

export class InputImages {
  private items: Attached[] = [];

  constructor(
    private readonly onChange: (items: readonly Attached[]) => void,
    private readonly onProblem: (message: string) => void,
  ) {}

  get list(): readonly Attached[] {
    return this.items;
  }

  async add(files: Iterable<File>): Promise<void> {
    for (const file of files) {
      if (this.items.length >= MAX_INPUTS) {
        this.onProblem(`At most ${MAX_INPUTS} images; ${file.name} was not added.`);
        break;
      }
      if (!TYPES.includes(file.type)) {
        this.onProblem(`${file.name || 'The pasted file'} is not a PNG, JPEG, WebP or GIF image.`);
        continue;
      }
      if (file.size > MAX_BYTES) {
        this.onProblem(`${file.name} is over 5 MB.`);
        continue;
      }
      this.items.push({ name: file.name || 'pasted image', dataUrl: await readAsDataUrl(file) });
    }
    this.onChange(this.items);
  }

  /** One image (an answer's, by button or drag); false when the composer is full. */
  attach(item: Attached): boolean {
    if (this.items.length >= MAX_INPUTS) {
      this.onProblem(`At most ${MAX_INPUTS} images; remove one first.`);
      return false;
    }
    this.items.push(item);
    this.onChange(this.items);
    return true;
  }

  set(items: readonly Attached[]): void {
    this.items = items.slice(0, MAX_INPUTS);
    this.onChange(this.items);
  }

  removeAt(index: number): void {
    this.items.splice(index, 1);
    this.onChange(this.items);
  }
}

export function readAsDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsDataURL(blob);
  });
}

/** Wires the file input, the drop zone and paste to `images`. */
export function wireImageInputs(images: InputImages, file: HTMLInputElement, drop: HTMLElement): void {
  file.addEventListener('change', () => {
    if (file.files) void images.add(Array.from(file.files));
    file.value = '';
  });
  const over = (on: boolean) => (e: DragEvent) => {
    e.preventDefault();
    drop.classList.toggle('over', on);
  };
  drop.addEventListener('dragenter', over(true));
  drop.addEventListener('dragover', over(true));
  drop.addEventListener('dragleave', over(false));
  drop.addEventListener('drop', (e) => {
    over(false)(e);
    const answerImage = answerImageOf(e.dataTransfer);
    if (answerImage) images.attach(answerImage);
    else if (e.dataTransfer?.files.length) void images.add(Array.from(e.dataTransfer.files));
  });
  document.addEventListener('paste', (e) => {
    const files = Array.from(e.clipboardData?.files ?? []).filter((f) => f.type.startsWith('image/'));
    if (files.length > 0) {
      e.preventDefault();
      void images.add(files);
    }
  });
}

/** Makes an answer's image draggable into the composer, carrying its reference. */
export function makeDraggable(img: HTMLImageElement, item: Attached): void {
  img.draggable = true;
  img.addEventListener('dragstart', (e) => {
    e.dataTransfer?.setData(ANSWER_IMAGE_TYPE, JSON.stringify(item));
    e.dataTransfer?.setData('text/uri-list', item.dataUrl);
    if (e.dataTransfer) e.dataTransfer.effectAllowed = 'copy';
  });
}

function answerImageOf(data: DataTransfer | null): Attached | null {
  const raw = data?.getData(ANSWER_IMAGE_TYPE);
  if (!raw) return null;
  try {
    const item = JSON.parse(raw) as Partial<Attached>;
    if (typeof item.dataUrl !== 'string') return null;
    const ref =
      item.ref && typeof item.ref.generation === 'string' && typeof item.ref.index === 'number'
        ? { generation: item.ref.generation, index: item.ref.index }
        : undefined;
    // An image the page could not copy (another origin) travels only by its reference.
    if (!ref && !item.dataUrl.startsWith('data:image/')) return null;
    return { name: typeof item.name === 'string' ? item.name : 'image from an answer', dataUrl: item.dataUrl, ...(ref ? { ref } : {}) };
  } catch {
    return null;
  }
}
