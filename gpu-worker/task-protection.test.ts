/**
 * Task scale-in protection against a stand-in ECS agent on 127.0.0.1 that records each call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentCall as Call, fakeAgent } from '../test/worker/fake-ecs-agent.js';
import { EcsAgentTaskProtection, ScaleInProtection, TaskProtectionError } from './task-protection.js';
import { loadWorkerEnv } from './worker-env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const states = (calls: Call[]) => calls.map((c) => c.body);
const ON = { ProtectionEnabled: true, ExpiresInMinutes: 30 };
const OFF = { ProtectionEnabled: false };

describe('task scale-in protection', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const agent = async (reply?: Parameters<typeof fakeAgent>[0]) => {
    const a = await fakeAgent(reply);
    cleanups.push(a.close);
    return a;
  };
  const protection = (uri: string, opts: { idleMs?: number; renewEveryMs?: number; retryMs?: number } = {}) => {
    const p = new ScaleInProtection({ port: new EcsAgentTaskProtection(uri), expiresInMinutes: 30, idleMs: opts.idleMs ?? 100, ...opts });
    cleanups.push(() => p.close());
    return p;
  };

  it('the adapter PUTs the state to $ECS_AGENT_URI/task-protection/v1/state as JSON', async () => {
    const a = await agent();
    const port = new EcsAgentTaskProtection(`${a.uri}/`);
    await port.set({ enabled: true, expiresInMinutes: 30 });
    await port.set({ enabled: false });
    expect(a.calls).toEqual([
      { method: 'PUT', url: '/api/task-id/task-protection/v1/state', contentType: 'application/json', body: ON },
      { method: 'PUT', url: '/api/task-id/task-protection/v1/state', contentType: 'application/json', body: OFF },
    ]);
  });

  it('the adapter throws on an HTTP error and on a 200 that carries a failure', async () => {
    const a = await agent((_c, n) =>
      n === 1
        ? { status: 400, body: { error: { Code: 'InvalidParameterException' } } }
        : { status: 200, body: { failure: { Arn: 'arn:task', Reason: 'TASK_NOT_VALID' } } },
    );
    const port = new EcsAgentTaskProtection(a.uri);
    await expect(port.set({ enabled: true, expiresInMinutes: 30 })).rejects.toThrow(/HTTP 400/);
    await expect(port.set({ enabled: true, expiresInMinutes: 30 })).rejects.toBeInstanceOf(TaskProtectionError);
  });

  it('is on at once while jobs are held and off only after the idle delay (debounced)', async () => {
    const a = await agent();
    const p = protection(a.uri, { idleMs: 150 });
    p.update(1);
    await until('protection on', () => a.calls.length === 1);
    expect(states(a.calls)).toEqual([ON]);
    // Busy -> idle -> busy within the idle delay: no call at all.
    p.update(3);
    p.update(0);
    await sleep(50);
    p.update(1);
    await sleep(200);
    expect(states(a.calls)).toEqual([ON]);
    // Idle for longer than the delay: one "off".
    p.update(0);
    await sleep(60);
    expect(a.calls).toHaveLength(1);
    await until('protection off', () => a.calls.length === 2);
    expect(states(a.calls)).toEqual([ON, OFF]);
    await sleep(200);
    expect(a.calls).toHaveLength(2);
  });

  it('renews the protection before it expires while busy', async () => {
    const a = await agent();
    const p = protection(a.uri, { renewEveryMs: 60 });
    p.update(1);
    await until('three renewals', () => a.calls.length >= 3, 3000);
    expect(states(a.calls).every((s) => JSON.stringify(s) === JSON.stringify(ON))).toBe(true);
    p.update(0);
    await until('protection off', () => a.calls.some((c) => JSON.stringify(c.body) === JSON.stringify(OFF)));
    const n = a.calls.length;
    await sleep(200);
    expect(a.calls).toHaveLength(n); // no renewal once off
  });

  it('retries a failed call, and close() drops the protection at once', async () => {
    const a = await agent((_c, n) => (n === 1 ? { status: 503, body: { error: 'agent busy' } } : { status: 200, body: {} }));
    const p = protection(a.uri, { idleMs: 60_000, retryMs: 50 });
    p.update(1);
    await until('the retry', () => a.calls.length === 2);
    expect(states(a.calls)).toEqual([ON, ON]);
    p.update(0); // the idle delay is a minute: only close() turns it off now
    await p.close();
    expect(states(a.calls)).toEqual([ON, ON, OFF]);
    p.update(1); // closed: ignored
    await sleep(50);
    expect(a.calls).toHaveLength(3);
  });

  it('reads its settings from the environment: on only with ECS_AGENT_URI', () => {
    expect(loadWorkerEnv({}).taskProtection).toBeUndefined();
    expect(loadWorkerEnv({ ECS_AGENT_URI: 'http://169.254.170.2/api/abc', WORKER_PROTECTION_IDLE_SECONDS: '5' }).taskProtection).toEqual({
      agentUri: 'http://169.254.170.2/api/abc',
      expiresInMinutes: 30,
      idleMs: 5000,
    });
    expect(() => loadWorkerEnv({ ECS_AGENT_URI: 'not a url' })).toThrow(/ECS_AGENT_URI/);
    expect(() => loadWorkerEnv({ ECS_AGENT_URI: 'http://x', WORKER_PROTECTION_MINUTES: '3000' })).toThrow(/WORKER_PROTECTION_MINUTES/);
  });
});
