/**
 * A chat completion's messages as the conversation the model reads (edge/conversation):
 * system and developer messages are not read (the models have no system turn), messages
 * without content are skipped, consecutive messages of one role form one turn, and images
 * come from `image_url` parts (any role) or, in an assistant's text, from markdown image
 * links `![...](url)`: how an earlier answer's images come back in OpenAI's dialect, whose
 * assistant messages carry text only. An image URL is a data URL, or the URL of one of
 * this server's output images (`.../outputs/gen_.../k.png`, signed or expired alike), read as
 * a reference to that generation of the caller's tenant. Nothing is fetched from elsewhere.
 */
import { CONVERSATION_LIMITS } from '../../shared/schemas/conversation.js';
import type { ImageSource, PartSpec, TurnSpec } from '../conversation/index.js';
import { OpenAiError } from './errors.js';
import type { ChatRequest } from './schemas.js';

/** A markdown image: `![alt](url)` or `![alt](<url> "title")`. */
const MARKDOWN_IMAGE = /!\[[^\]]*\]\(\s*<?([^\s)>]+)>?(?:\s+"[^"]*")?\s*\)/g;

/** An output image of this server, wherever its URL points (the local files route or S3): its generation and index. */
const OUTPUT_PATH = /(?:^|\/)outputs\/(gen_[A-Za-z0-9_-]{1,124})\/(\d{1,2})\.png$/;

/** Where an image URL comes from; `param` names it in errors. */
export function imageSourceOf(url: string, param: string): ImageSource {
  if (url.startsWith('data:')) return { kind: 'data_url', url, where: param };
  let path: string;
  try {
    path = new URL(url, 'http://relative.invalid').pathname;
  } catch {
    path = '';
  }
  const output = OUTPUT_PATH.exec(path);
  if (output) return { kind: 'generation', generation: output[1]!, index: Number(output[2]), where: param };
  throw new OpenAiError(
    'unsupported_image',
    `${param}: only data URLs and this server's output image URLs are read; this server fetches no remote images`,
    { param },
  );
}

/** An assistant's text with its markdown images as image parts; the text around them kept exactly. */
export function assistantTextParts(text: string, param: string): PartSpec[] {
  const parts: PartSpec[] = [];
  let at = 0;
  for (const match of text.matchAll(MARKDOWN_IMAGE)) {
    if (match.index > at) parts.push({ type: 'text', text: text.slice(at, match.index) });
    parts.push({ type: 'image', source: imageSourceOf(match[1]!, param) });
    at = match.index + match[0].length;
  }
  if (at < text.length) parts.push({ type: 'text', text: text.slice(at) });
  return parts;
}

/** The turns of a chat, the last the user's; `describePrompt` follows an image sent alone in it. */
export function chatTurns(body: ChatRequest, describePrompt: string): TurnSpec[] {
  const turns: { role: 'user' | 'assistant'; parts: PartSpec[] }[] = [];
  body.messages.forEach((message, i) => {
    if (message.role !== 'user' && message.role !== 'assistant') return;
    const parts = messageParts(message, i);
    if (parts.length === 0) return;
    const last = turns[turns.length - 1];
    if (last?.role === message.role) last.parts.push(...parts);
    else turns.push({ role: message.role, parts });
  });
  if (turns[0]?.role !== 'user') {
    throw new OpenAiError(
      'invalid_request',
      'messages: the conversation must start with a user message (system and developer messages are not read)',
      { param: 'messages' },
    );
  }
  const final = turns[turns.length - 1]!;
  if (final.role !== 'user')
    throw new OpenAiError('invalid_request', "messages: the last message must be the user's: the model answers it", { param: 'messages' });
  // An image alone asks what it shows: the model's own describe prompt.
  if (!final.parts.some((p) => p.type === 'text' && p.text.length > 0)) final.parts.push({ type: 'text', text: describePrompt });
  checkTotals(turns);
  return turns;
}

function messageParts(message: ChatRequest['messages'][number], i: number): PartSpec[] {
  const { content, role } = message;
  if (content == null) return [];
  if (typeof content === 'string')
    return role === 'assistant'
      ? assistantTextParts(content, `messages.${i}.content`)
      : content.length > 0
        ? [{ type: 'text', text: content }]
        : [];
  return content.flatMap((part, k): PartSpec[] => {
    const param = `messages.${i}.content.${k}`;
    if (part.type === 'image_url') return [{ type: 'image', source: imageSourceOf(part.image_url.url, `${param}.image_url.url`) }];
    if (role === 'assistant') return assistantTextParts(part.text, `${param}.text`);
    return part.text.length > 0 ? [{ type: 'text', text: part.text }] : [];
  });
}

/** The per-request totals of POST /v1/generations' `messages`, before anything is read. */
function checkTotals(turns: readonly TurnSpec[]): void {
  const parts = turns.flatMap((t) => t.parts);
  const images = parts.filter((p) => p.type === 'image').length;
  if (images > CONVERSATION_LIMITS.images) {
    throw new OpenAiError('invalid_request', `messages: ${images} images in all; at most ${CONVERSATION_LIMITS.images} in one request`, {
      param: 'messages',
    });
  }
  const chars = parts.reduce((n, p) => n + (p.type === 'text' ? p.text.length : 0), 0);
  if (chars > CONVERSATION_LIMITS.textChars) {
    throw new OpenAiError('prompt_too_long', `messages: ${chars} characters of text in all; at most ${CONVERSATION_LIMITS.textChars}`, {
      param: 'messages',
    });
  }
}
