/**
 * Messages between the edge's event loop and its decode thread. Both ends are this
 * project's code, but a message still crosses a boundary: each side checks what arrives.
 */
import type { Precision, Segment, TextDecodeOptions, TextStop } from '../../shared/runtime/index.js';
import type { DecodedText } from '../text-decode.js';

/** What the thread is started with (workerData). */
export interface ThreadConfig {
  modelDir: string;
  precision: Precision;
  intraOpThreads?: number;
}

export interface DecodeRequest {
  id: number;
  segments: Segment[];
  options: TextDecodeOptions;
}

/** Finish the decode in progress, drop the rest, release the session, exit. */
export interface CloseRequest {
  type: 'close';
}

export type ThreadMessage =
  | { type: 'ready' }
  | { type: 'failed-to-start'; message: string }
  | { type: 'decoded'; id: number; result: DecodedText }
  | { type: 'error'; id: number; name: string; message: string };

const STOPS: readonly TextStop[] = ['boi', 'eos', 'length'];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function isDecodedText(v: unknown): v is DecodedText {
  return (
    isRecord(v) &&
    Array.isArray(v['ids']) &&
    v['ids'].every((id) => Number.isInteger(id)) &&
    typeof v['text'] === 'string' &&
    STOPS.includes(v['stop'] as TextStop)
  );
}

export function isThreadMessage(m: unknown): m is ThreadMessage {
  if (!isRecord(m)) return false;
  switch (m['type']) {
    case 'ready':
      return true;
    case 'failed-to-start':
      return typeof m['message'] === 'string';
    case 'decoded':
      return Number.isInteger(m['id']) && isDecodedText(m['result']);
    case 'error':
      return Number.isInteger(m['id']) && typeof m['name'] === 'string' && typeof m['message'] === 'string';
    default:
      return false;
  }
}

function isSegment(s: unknown): s is Segment {
  if (!isRecord(s)) return false;
  if (s['type'] === 'text') return Array.isArray(s['ids']) && s['ids'].every((id) => Number.isInteger(id));
  return s['type'] === 'image' && s['patches'] instanceof Float32Array;
}

export function isDecodeRequest(m: unknown): m is DecodeRequest {
  if (!isRecord(m) || !Number.isInteger(m['id']) || !Array.isArray(m['segments']) || !m['segments'].every(isSegment)) return false;
  const o = m['options'];
  return isRecord(o) && Number.isInteger(o['maxTokens']) && typeof o['temperature'] === 'number' && Number.isInteger(o['seed']);
}

export function isCloseRequest(m: unknown): m is CloseRequest {
  return isRecord(m) && m['type'] === 'close';
}
