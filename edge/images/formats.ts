/**
 * The input image formats and how to tell them from their first bytes. The data URL's
 * declared type must match what the bytes are: a file that says it is one format and is
 * another is refused, not guessed at.
 */
import type { INPUT_IMAGE_TYPES } from '../../shared/schemas/generation.js';

export const INPUT_FORMATS = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/webp': 'webp',
  'image/gif': 'gif',
} as const satisfies Record<(typeof INPUT_IMAGE_TYPES)[number], string>;
export type InputMime = keyof typeof INPUT_FORMATS;
export type InputFormat = (typeof INPUT_FORMATS)[InputMime];

export function isInputMime(mime: string): mime is InputMime {
  return Object.hasOwn(INPUT_FORMATS, mime);
}

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0): boolean =>
  bytes.length >= at + prefix.length && prefix.every((b, i) => bytes[at + i] === b);
const ascii = (s: string): number[] => [...s].map((ch) => ch.charCodeAt(0));

/** The format the bytes are, from their magic numbers, or null. */
export function sniffFormat(bytes: Uint8Array): InputFormat | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  return null;
}
