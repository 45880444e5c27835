/** GET /healthz: liveness. The process answers and its models are loaded; /readyz says whether it can take work. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { ModelRegistry } from '../../shared/models/index.js';
import type { EdgeEnv } from '../env.js';

const Health = z
  .object({
    status: z.literal('ok'),
    model: z.string().meta({ description: 'The default model.' }),
    models: z.array(z.string()).meta({ description: 'Every model served.' }),
  })
  .strict();

export const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'Liveness',
  responses: {
    200: { content: { 'application/json': { schema: Health } }, description: 'The process is up and its models are loaded.' },
  },
});

export function registerHealth(app: OpenAPIHono<EdgeEnv>, models: ModelRegistry): void {
  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const, model: models.default.name, models: models.names }, 200));
}
