/**
 * The text and image parts that requests, job records and views share, defined once. A
 * stored image is named by its store key, a shown one by its URL; both carry the size the
 * model read or drew it at.
 */
import { z } from 'zod';

export const TextPart = z.object({ type: z.literal('text'), text: z.string() }).strict();
export type TextPart = z.infer<typeof TextPart>;

const imageSize = { width: z.number().int().positive(), height: z.number().int().positive() };

/** An image in the store, by its key (`inputs/...` or `outputs/...`). */
export const StoredImagePart = z
  .object({ type: z.literal('image'), key: z.string().min(1), ...imageSize, mime_type: z.literal('image/png') })
  .strict();
export type StoredImagePart = z.infer<typeof StoredImagePart>;

/** An image as the API shows it. */
export const ImagePart = z
  .object({
    type: z.literal('image'),
    /** Absolute (presigned S3) or relative to the API's base URL (`/v1/files/...`). */
    url: z.string().min(1),
    ...imageSize,
    mime_type: z.literal('image/png'),
  })
  .strict();
export type ImagePart = z.infer<typeof ImagePart>;
