/**
 * A small client of the public API. Every response is checked against the API's own zod
 * schemas, and every failure becomes a CliError whose message a person can act on.
 */
import { z } from 'zod';
import { ApiErrorBody } from '../shared/schemas/errors.js';
import { type CreateGenerationRequest, Generation } from '../shared/schemas/generation.js';
import { ModelList } from '../shared/schemas/models.js';

/**
 * The API's error shape (`{error: {code, message}}`, ApiErrorBody), or OpenAI's, which the
 * OpenAI-compatible paths (GET /v1/models among them) answer with: `{error: {message, type, code}}`.
 */
const AnyErrorBody = z.union([
  ApiErrorBody,
  z.object({ error: z.object({ message: z.string(), type: z.string().optional(), code: z.string().nullable().optional() }) }),
]);

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export type Fetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

export class ApiClient {
  private readonly base: URL;

  constructor(
    baseUrl: string,
    private readonly apiKey: string | undefined,
    private readonly fetchFn: Fetch = fetch,
  ) {
    this.base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  }

  async create(body: CreateGenerationRequest): Promise<Generation> {
    return this.json(
      await this.send('v1/generations', { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
      Generation,
    );
  }

  /** GET /v1/models: the models served, the default marked. */
  async models(): Promise<ModelList> {
    return this.json(await this.send('v1/models'), ModelList);
  }

  async get(id: string): Promise<Generation> {
    return this.json(await this.send(`v1/generations/${encodeURIComponent(id)}`), Generation);
  }

  /** The bytes behind an image part's url (relative urls are resolved against the API base). */
  async download(url: string): Promise<Uint8Array> {
    const res = await this.send(url);
    if (!res.ok) await this.fail(res);
    return new Uint8Array(await res.arrayBuffer());
  }

  private async send(path: string, init: RequestInit = {}): Promise<Response> {
    // '/v1/files/x' is relative to the API base (which may carry a path prefix); absolute URLs stay.
    const url = new URL(path.replace(/^\//, ''), this.base);
    const headers = new Headers(init.headers);
    // The key only goes to our own server, never to a presigned storage URL elsewhere.
    if (this.apiKey && url.origin === this.base.origin) headers.set('Authorization', `Bearer ${this.apiKey}`);
    try {
      return await this.fetchFn(url, { ...init, headers });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach ${url.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}. Is the server running (npm start)?`,
      );
    }
  }

  private async json<T>(res: Response, schema: z.ZodType<T>): Promise<T> {
    if (!res.ok) await this.fail(res);
    let raw: unknown;
    try {
      raw = await res.json();
    } catch {
      throw new CliError(`the server sent a ${res.status} response that is not JSON`);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new CliError(`the server's response does not match the API: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }

  private async fail(res: Response): Promise<never> {
    const text = await res.text().catch(() => '');
    let body: z.infer<typeof AnyErrorBody> | undefined;
    try {
      body = AnyErrorBody.parse(JSON.parse(text));
    } catch {
      body = undefined;
    }
    const code = body && (body.error.code ?? ('type' in body.error ? body.error.type : undefined));
    if (body && code) throw new CliError(`the server answered ${res.status} ${code}: ${body.error.message}`);
    throw new CliError(`the server answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }
}
