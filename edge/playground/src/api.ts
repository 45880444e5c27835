/**
 * The page's HTTP client: JSON in and out, the API key (session storage) as a bearer token,
 * errors as ApiProblem with the API's own message. A 401 asks for a key once per request
 * (through `askForKey`) and retries with it.
 */
import type * as z from 'zod/mini';
import { ErrorBody } from './schemas.js';

const KEY_STORAGE = 'playground.apiKey';

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

export type AskForKey = (reason: string) => Promise<string | null>;

export class ApiClient {
  private key: string | null = sessionStorage.getItem(KEY_STORAGE);

  constructor(
    private readonly base: URL,
    private readonly askForKey: AskForKey,
  ) {}

  get hasKey(): boolean {
    return this.key !== null;
  }

  setKey(key: string | null): void {
    this.key = key;
    if (key === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  }

  url(path: string): URL {
    return new URL(path.replace(/^\//, ''), this.base);
  }

  /** fetch with the key; on 401 asks for a key and tries again while the user gives one. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    for (;;) {
      const headers = new Headers(init.headers);
      if (this.key) headers.set('authorization', `Bearer ${this.key}`);
      const res = await fetch(this.url(path), { ...init, headers });
      if (res.status !== 401) return res;
      const problem = await problemOf(res);
      const key = await this.askForKey(this.key ? problem.message : 'This server needs an API key.');
      if (key === null) throw problem;
      this.setKey(key);
    }
  }

  async json<T>(schema: z.ZodMiniType<T>, path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    const res = await this.fetch(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      ...(init.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    if (!res.ok) throw await problemOf(res);
    const parsed = schema.safeParse(await res.json());
    if (!parsed.success)
      throw new ApiProblem(res.status, 'unexpected_response', `the server answered ${path} with something this page does not understand`);
    return parsed.data;
  }
}

export async function problemOf(res: Response): Promise<ApiProblem> {
  const body = ErrorBody.safeParse(await res.json().catch(() => null));
  if (body.success) return new ApiProblem(res.status, body.data.error.code ?? `http_${res.status}`, body.data.error.message);
  return new ApiProblem(res.status, `http_${res.status}`, `the server answered ${res.status} ${res.statusText}`.trim());
}

/** A person's sentence for any failure. */
export function describeFailure(err: unknown): string {
  if (err instanceof ApiProblem) return err.message;
  if (err instanceof TypeError) return 'The server could not be reached. Is it running?';
  return err instanceof Error ? err.message : String(err);
}
