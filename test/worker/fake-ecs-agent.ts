/**
 * A stand-in for the ECS agent's task-protection endpoint on 127.0.0.1: records every call.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AgentCall {
  method: string;
  url: string;
  contentType: string | undefined;
  body: unknown;
}

/** A stand-in ECS agent: records calls; `reply` decides each answer (default: 200 with the protection). */
export async function fakeAgent(
  reply?: (call: AgentCall, n: number) => { status: number; body: unknown },
): Promise<{ uri: string; calls: AgentCall[]; close(): Promise<void> }> {
  const calls: AgentCall[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const call: AgentCall = {
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        body: raw ? JSON.parse(raw) : undefined,
      };
      calls.push(call);
      const out = reply?.(call, calls.length) ?? {
        status: 200,
        body: { protection: { ProtectionEnabled: (call.body as { ProtectionEnabled?: boolean })?.ProtectionEnabled } },
      };
      res.writeHead(out.status, { 'content-type': 'application/json' }).end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { uri: `http://127.0.0.1:${port}/api/task-id`, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
