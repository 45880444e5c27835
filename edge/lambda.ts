/**
 * The AWS Lambda adapter (API Gateway HTTP API, payload v2). Dependencies are built on the
 * first invocation and kept for the container's life; importing this module does no I/O.
 */
import { handle } from 'hono/aws-lambda';
import { configFromProcessEnv } from '../shared/config/index.js';
import { createApp } from './app.js';
import { buildDeps } from './deps.js';

type LambdaHandler = ReturnType<typeof handle>;

/** Under the 29 s function timeout with room for the decode before the wait. */
export const LAMBDA_MAX_WAIT_SECONDS = 20;

let ready: Promise<LambdaHandler> | undefined;

async function init(): Promise<LambdaHandler> {
  const config = configFromProcessEnv();
  const deps = await buildDeps(config, { decodeOn: 'event-loop' });
  // The HTTP API cannot stream a response and cuts one off at 30 s: events are answered
  // buffered (edge/generations/events/route.ts), and Prefer: wait is held at most 20 s.
  return handle(createApp({ ...deps, events: { mode: 'buffered', pollMs: 500 }, maxWaitSeconds: LAMBDA_MAX_WAIT_SECONDS }));
}

export const handler = async (...args: Parameters<LambdaHandler>): Promise<Awaited<ReturnType<LambdaHandler>>> => {
  // A failed start is not cached: the next invocation tries again.
  ready ??= init().catch((err: unknown) => {
    ready = undefined;
    throw err;
  });
  return (await ready)(...args);
};
