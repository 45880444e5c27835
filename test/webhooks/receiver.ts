/**
 * A webhook receiver on loopback for tests and the chaos run: it verifies every delivery
 * with the Standard Webhooks library (the same one the worker signs with), as a client
 * would, and records what it got. It can be told to fail the next deliveries.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  type: string;
  /** The generation in the payload. */
  data: { id: string; status: string; progress: { step: number; steps: number } };
  verified: boolean;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Deliveries whose signature did not verify. */
  rejected: number;
  /** Answer the next `n` deliveries with `status` instead of 204. */
  failNext(n: number, status?: number): void;
  /** From now on answer every `n`th delivery 503 (0: stop). */
  failEvery(n: number): void;
  /** Deliveries answered with a failure so far. */
  readonly failed: number;
  close(): Promise<void>;
}

export async function startReceiver(secret: string, path = '/hook'): Promise<Receiver> {
  const wh = new Webhook(secret);
  const received: Received[] = [];
  let rejected = 0;
  let failures = 0;
  let failStatus = 500;
  let every = 0;
  let seen = 0;
  let failed = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen += 1;
      const scheduled = every > 0 && seen % every === 0;
      if (failures > 0 || scheduled) {
        const status = failures > 0 ? failStatus : 503;
        if (failures > 0) failures -= 1;
        failed += 1;
        res.writeHead(status).end();
        return;
      }
      try {
        const payload = wh.verify(body, req.headers as Record<string, string>) as { type: string; data: Received['data'] };
        received.push({ id: String(req.headers['webhook-id']), type: payload.type, data: payload.data, verified: true, at: Date.now() });
        res.writeHead(204).end();
      } catch {
        rejected += 1;
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    get rejected() {
      return rejected;
    },
    failNext(n, status = 500) {
      failures = n;
      failStatus = status;
    },
    failEvery(n) {
      every = n;
    },
    get failed() {
      return failed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A fresh Standard Webhooks secret. */
export function newSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64')}`;
}
