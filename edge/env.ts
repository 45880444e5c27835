/** The Hono environment of the edge app: what middleware puts on the context. */
import type { Logger } from '../shared/logging/index.js';
import type { BodyParser, InlineImages } from './body/index.js';

export interface EdgeEnv {
  Variables: {
    requestId: string;
    /** The app's logger with this request's id bound. */
    log: Logger;
    /** The caller's tenant (edge/auth), set on authenticated /v1 routes. */
    tenant: string;
    /** Where large JSON bodies are parsed (AppDeps.bodyParser). */
    bodies: BodyParser;
    /** POST /v1/generations: its images read with the body (a large JSON body, a multipart form), by their keys in it. */
    inlineImages?: InlineImages;
  };
}
