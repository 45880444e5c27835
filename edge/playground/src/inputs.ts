/**
 * Images attached to the next request: from the file picker, dropped on the drop zone, or
 * pasted anywhere on the page. Kept as data URLs (what the API takes).
 */
const TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];
export const MAX_INPUTS = 4;
/** The API's per-image limit (5 MB decoded). */
const MAX_BYTES = 5 * 1024 * 1024;

export interface Attached {
  name: string;
  dataUrl: string;
}

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
    if (e.dataTransfer?.files.length) void images.add(Array.from(e.dataTransfer.files));
  });
  document.addEventListener('paste', (e) => {
    const files = Array.from(e.clipboardData?.files ?? []).filter((f) => f.type.startsWith('image/'));
    if (files.length > 0) {
      e.preventDefault();
      void images.add(files);
    }
  });
}
