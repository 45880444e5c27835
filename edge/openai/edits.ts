/**
 * OpenAI's image edits over this API's generations: the uploaded image and the prompt are
 * one user turn, `<bos> <user> <boi> patches <eoi> {prompt} <assistant>` (the layout of a
 * describe), so an edit or a restyle is whatever the model draws after it. The image is
 * read as POST /v1/generations reads `images` (its type from its bytes, decoded off the
 * event loop); the answer is the images route's: one generation per edit, waited for.
 */
import { Buffer } from 'node:buffer';
import { type CreateGenerationRequest, LIMITS } from '../../shared/schemas/generation.js';
import { INPUT_FORMATS, sniffFormat } from '../images/index.js';
import { type ImageEditForm, imageOf } from './edits-schema.js';
import { OpenAiError } from './errors.js';
import { answerImages, checkSize, type ImagesDeps, seedOf } from './images.js';
import type { ImagesResponse } from './schemas.js';

/** The file as the data URL POST /v1/generations takes, its type read from its bytes. */
export async function imageDataUrl(file: File): Promise<string> {
  if (file.size > LIMITS.imageBytes) {
    throw new OpenAiError('image_too_large', `image: ${file.size} bytes; at most ${LIMITS.imageBytes} bytes`, { param: 'image' });
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const format = sniffFormat(bytes);
  const mime = Object.entries(INPUT_FORMATS).find(([, f]) => f === format)?.[0];
  if (!mime) throw new OpenAiError('unsupported_image', `image: not a ${Object.keys(INPUT_FORMATS).join(', ')} file`, { param: 'image' });
  return `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;
}

export async function editImages(deps: ImagesDeps, form: ImageEditForm): Promise<ImagesResponse> {
  checkSize(form.size, deps.model);
  const image = await imageDataUrl(imageOf(form));
  const prompt = form.prompt.trim();
  const requests: CreateGenerationRequest[] = Array.from({ length: form.n ?? 1 }, (_, k) => ({
    prompt,
    images: [image],
    ...seedOf(form.seed, k),
    ...(form.steps !== undefined ? { steps: form.steps } : {}),
    ...(form.guidance !== undefined ? { guidance: form.guidance } : {}),
    ...(form.temperature !== undefined ? { temperature: form.temperature } : {}),
  }));
  return answerImages(deps, requests, { format: form.response_format ?? 'url', revisedPrompt: prompt, user: form.user });
}
