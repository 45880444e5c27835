/** Input images as the API takes them: data URLs of the accepted types (edge/images decodes them). */
import { z } from 'zod';

/** The media types of input images (edge/images decodes these). */
export const INPUT_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;

/**
 * What the server accepts as an input image, as the OpenAPI document states it: a data URL of
 * an accepted type, base64, with a non-empty, well-padded payload. The zod check below is
 * looser on purpose, so that a near miss gets its specific code (unsupported_image,
 * invalid_base64) instead of a generic invalid_request.
 */
export const IMAGE_DATA_URL_PATTERN =
  `^data:(${INPUT_IMAGE_TYPES.map((t) => t.replace(/[.+]/g, (c) => `\\${c}`)).join('|')})(;[A-Za-z0-9=._+-]+)*;base64,` +
  '([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$';

/** `data:<mime>;base64,<payload>`; the mime and payload are checked when the image is decoded. */
export const ImageDataUrl = z
  .string()
  .regex(/^data:[^,]*,/, 'expected a data URL (data:image/png;base64,... or data:image/jpeg;base64,...)')
  .meta({
    description: `A base64 data URL of a ${INPUT_IMAGE_TYPES.join(' or ')} image, at most 5 MB decoded and 16.7 megapixels (4096 x 4096; more is 413 image_too_large); a GIF or WebP gives its first frame. Bytes that are not such an image, or not of the declared type, are refused (400 unsupported_image).`,
    pattern: IMAGE_DATA_URL_PATTERN,
    example: 'data:image/png;base64,iVBORw0KGgo...',
  });
