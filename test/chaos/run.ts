/**
 * The chaos run (issue 12's proof): N generations of every kind (draws, draws with webhooks,
 * describes with an input image, answers of several images, canceled draws) sent by concurrent clients to the edge
 * process, while worker processes are SIGKILLed at random and restarted, and the edge is
 * restarted once. Then the invariants:
 *  - every generation ends terminal, in the status its kind allows;
 *  - none runs its output twice: at most one `job succeeded` per job over every worker's log
 *    (the killed ones' included), exactly its image objects under outputs/<id>/, and each
 *    image's content hash the same when read again at the end. (None is possible: a worker
 *    killed after its winning write but before its log line, or a conditional write that the
 *    SDK retried after its answer was lost, which reads back as "already finished"; those
 *    are counted, not failed: the record and the objects are the proof.)
 *  - every answer of several images (one prompt and seed for all, MULTI_IMAGE) is the same
 *    answer, interrupted or not: the same parts, the same image bytes (a worker killed
 *    mid-answer resumes after its last checkpointed image and makes none twice);
 *  - every completed webhook was delivered, verified by the receiver with the Standard
 *    Webhooks library, its payload's status the generation's final one;
 *  - nothing lost: the job queue and the dead-letter queue drain to empty.
 * Everything runs on loopback; the back end is the embedded one or the local S3/SQS servers.
 */
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { Backend } from '../e2e/backends.js';
import { startWorkerProcess, stopProcess, systemEnv, tempDataDir, type WorkerProcess } from '../e2e/system.js';
import { logLines } from '../log-lines.js';
import { newSecret, startReceiver } from '../webhooks/receiver.js';
import { call, imageHashes, prng, sleep } from './client.js';
import { undrained } from './drain.js';
import { type EdgeProcess, freePort, startEdgeProcess } from './edge-process.js';

export type Kind = 'draw' | 'draw+webhook' | 'describe' | 'multi' | 'cancel';

/**
 * A request the tiny model answers with two images and text before, between and after them
 * (test/worker/answers.ts found the seed; the answer holds for any number of steps). Many
 * steps, so that a kill has a fair chance of landing mid-answer.
 */
export const MULTI_IMAGE = { prompt: 'draw a small red circle at the top', temperature: 2, seed: 74, max_tokens: 64, steps: 30 } as const;
const MULTI_IMAGE_COUNT = 2;

export interface ChaosOptions {
  backend: Backend;
  generations: number;
  /** Worker SIGKILLs (each followed by a restart), spread over the submissions. */
  kills: number;
  workers: number;
  edgeRestart: boolean;
  /** Concurrent clients. */
  clients: number;
  seed: number;
  log?: (line: string) => void;
  /** How long the run may take to finish every generation once all are sent. */
  settleMs?: number;
  /** Where to write every worker's and the edge's log lines (for a violation's post-mortem). */
  logFile?: string;
  /** The receiver answers every nth delivery 503, so that retries happen too (0: none). */
  hookFailEvery?: number;
}

export interface ChaosReport {
  backend: string;
  generations: number;
  kinds: Record<Kind, number>;
  statuses: Record<string, number>;
  kills: number;
  edgeRestarts: number;
  webhooks: { expected: number; delivered: number; rejectedSignatures: number; failedAttempts: number; refusedByReceiver: number };
  /** Generations that were redelivered after a kill (received by more than one worker process). */
  redelivered: number;
  /** Of those, answers of several images (resumed mid-answer or restarted). */
  redeliveredMulti: number;
  /** Succeeded by a worker, with no `job succeeded` line in any log (see the module comment). */
  unloggedWins: number;
  imagesHashed: number;
  seconds: number;
  violations: string[];
}

interface Gen {
  kind: Kind;
  id?: string;
  final?: { status: string; output: { type: string; url?: string }[] };
  webhook: boolean;
  /** sha256 of each output image when the generation was first seen finished. */
  hashes?: string[];
}

function png64(shade: number): string {
  const png = new PNG({ width: 64, height: 64 });
  for (let i = 0; i < png.data.length; i += 4) png.data.set([shade, ((i / 4) % 64) << 2, 255 - shade, 255], i);
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => {});
  const rand = prng(o.seed);
  const started = Date.now();
  const data = tempDataDir();
  const secret = newSecret();
  const receiver = await startReceiver(secret);
  if (o.hookFailEvery) receiver.failEvery(o.hookFailEvery);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Visibility 6 s: a killed worker's jobs come back within seconds, while a worker slowed
  // down by a loaded machine still heartbeats in time (at 2 s, the e2e suite's, late
  // heartbeats under load hand healthy jobs to a second worker and towards the dead letters).
  const hookEnv = { WEBHOOK_SECRET: secret, WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_BASE_MS: '500', VISIBILITY_TIMEOUT_SECONDS: '6' };
  const edgeEnv = systemEnv(data.dir, { ...o.backend.env, ...hookEnv, PORT: String(port), HOST: '127.0.0.1' });
  const workers: (WorkerProcess | undefined)[] = [];
  const outputs: (() => string)[] = [];
  const violations: string[] = [];
  let edge: EdgeProcess | undefined;
  let kills = 0;
  let edgeRestarts = 0;
  try {
    const startWorker = async (slot: number): Promise<void> => {
      const w = await startWorkerProcess(data.dir, {
        ...o.backend.env,
        ...hookEnv,
        LOG_LEVEL: 'info',
        WORKER_DEAD_LETTER_WAIT_SECONDS: '1',
      });
      outputs.push(w.output);
      workers[slot] = w;
    };
    [edge] = await Promise.all([startEdgeProcess(edgeEnv, url), ...Array.from({ length: o.workers }, (_, i) => startWorker(i))]);
    log(
      `chaos on ${o.backend.name}: edge ${url}, ${o.workers} workers, ${o.generations} generations, ${o.kills} kills${o.edgeRestart ? ', one edge restart' : ''}`,
    );

    const gens: Gen[] = Array.from({ length: o.generations }, () => {
      const r = rand();
      const kind: Kind = r < 0.4 ? 'draw' : r < 0.6 ? 'draw+webhook' : r < 0.72 ? 'describe' : r < 0.88 ? 'multi' : 'cancel';
      return { kind, webhook: kind === 'draw+webhook' || ((kind === 'describe' || kind === 'multi') && rand() < 0.5) };
    });
    const killAt = new Set(Array.from({ length: o.kills }, (_, k) => Math.floor(((k + 1) * o.generations) / (o.kills + 1))));
    const restartAt = o.edgeRestart ? Math.floor(o.generations / 2) + 1 : -1;
    let sent = 0;
    const chaos: Promise<void>[] = [];

    const chaosAfterSend = (n: number): void => {
      if (killAt.has(n)) {
        killAt.delete(n);
        chaos.push(
          (async () => {
            await sleep(200 + rand() * 800); // let it get into some job
            const slot = Math.floor(rand() * o.workers);
            const victim = workers[slot];
            if (!victim) return;
            workers[slot] = undefined;
            victim.child.kill('SIGKILL');
            await victim.exited;
            kills += 1;
            log(`SIGKILLed worker ${slot} (pid ${victim.child.pid}) after ${n} generations sent`);
            await startWorker(slot);
          })(),
        );
      }
      if (n === restartAt) {
        chaos.push(
          (async () => {
            const old = edge!;
            old.child.kill('SIGTERM');
            await old.exited;
            edge = await startEdgeProcess(edgeEnv, url);
            edgeRestarts += 1;
            log(`restarted the edge after ${n} generations sent`);
          })(),
        );
      }
    };

    const runOne = async (g: Gen, i: number): Promise<void> => {
      const webhook = g.webhook
        ? { url: `${receiver.url}?g=${i}`, events: rand() < 0.5 ? ['completed'] : ['start', 'progress', 'completed'] }
        : undefined;
      const body =
        g.kind === 'describe'
          ? { prompt: 'describe the image', images: [png64((i * 37) % 256)], max_tokens: 6, seed: i, ...(webhook ? { webhook } : {}) }
          : g.kind === 'multi'
            ? { ...MULTI_IMAGE, ...(webhook ? { webhook } : {}) }
            : {
                prompt: 'draw a small red circle at the top',
                steps: g.kind === 'cancel' ? 60 : 4 + (i % 5),
                seed: i,
                ...(webhook ? { webhook } : {}),
              };
      const created = await call(url, '/v1/generations', { body });
      if (created.status !== 201 && created.status !== 202) {
        violations.push(`generation ${i} (${g.kind}): POST answered ${created.status} ${JSON.stringify(created.body).slice(0, 200)}`);
        return;
      }
      g.id = created.body.id as string;
      sent += 1;
      chaosAfterSend(sent);
      if (g.kind === 'cancel') {
        await sleep(rand() * 1500);
        const c = await call(url, `/v1/generations/${g.id}/cancel`, { method: 'POST' });
        if (c.status !== 200 && !(c.status === 409 && c.body?.error?.code === 'already_finished'))
          violations.push(`generation ${g.id}: cancel answered ${c.status}`);
      }
      const deadline = Date.now() + (o.settleMs ?? 300_000);
      for (;;) {
        const { status, body: got } = await call(url, `/v1/generations/${g.id}`);
        if (status === 200 && ['succeeded', 'failed', 'canceled'].includes(got.status)) {
          g.final = got;
          g.hashes = await imageHashes(url, got.output);
          return;
        }
        if (Date.now() > deadline) {
          violations.push(`generation ${g.id} (${g.kind}) not terminal after ${o.settleMs ?? 300_000} ms: ${got.status}`);
          return;
        }
        await sleep(150);
      }
    };

    let next = 0;
    await Promise.all(
      Array.from({ length: o.clients }, async () => {
        while (next < gens.length) {
          const i = next++;
          await runOne(gens[i]!, i);
        }
      }),
    );
    await Promise.all(chaos);

    // --- invariants ---------------------------------------------------------------------
    const statuses: Record<string, number> = {};
    for (const g of gens) if (g.final) statuses[g.final.status] = (statuses[g.final.status] ?? 0) + 1;
    const allowed: Record<Kind, string[]> = {
      draw: ['succeeded'],
      'draw+webhook': ['succeeded'],
      describe: ['succeeded'],
      multi: ['succeeded'],
      cancel: ['canceled', 'succeeded'],
    };
    for (const g of gens) {
      if (g.final && !allowed[g.kind].includes(g.final.status))
        violations.push(`generation ${g.id} (${g.kind}) ended ${g.final.status}: ${JSON.stringify(g.final).slice(0, 300)}`);
    }

    // Answers of several images: one request, so one answer, whatever was killed on the way.
    const answers = gens
      .filter((g) => g.kind === 'multi' && g.final?.status === 'succeeded')
      .map((g) => ({ id: g.id!, answer: JSON.stringify([g.final!.output.map((p) => (p.type === 'image' ? 'image' : p)), g.hashes]) }));
    for (const { id, answer } of answers) {
      const images = (JSON.parse(answer) as [unknown[], string[]])[1].length;
      if (images !== MULTI_IMAGE_COUNT) violations.push(`generation ${id} (multi): ${images} images, expected ${MULTI_IMAGE_COUNT}`);
      if (answer !== answers[0]!.answer)
        violations.push(
          `generation ${id} (multi): answer ${answer.slice(0, 300)} differs from ${answers[0]!.id}'s ${answers[0]!.answer.slice(0, 300)}`,
        );
    }

    // Webhooks: retries may still be in flight; wait for every completed event.
    const expectHook = gens.filter((g) => g.webhook && g.final);
    const hookDeadline = Date.now() + 60_000;
    while (Date.now() < hookDeadline && !expectHook.every((g) => receiver.received.some((r) => r.id === `msg_${g.id}_completed`)))
      await sleep(250);
    for (const g of expectHook) {
      const got = receiver.received.filter((r) => r.id === `msg_${g.id}_completed`);
      if (got.length === 0) violations.push(`generation ${g.id}: no completed webhook delivered`);
      else if (got.some((r) => r.data.status !== g.final!.status))
        violations.push(`generation ${g.id}: completed webhook says ${got[0]!.data.status}, the generation ${g.final!.status}`);
    }
    if (receiver.rejected > 0) violations.push(`${receiver.rejected} webhook deliveries failed signature verification`);

    // Each job's output made once.
    const lines = logLines(outputs.map((out) => out()).join('\n'));
    const wins = new Map<string, number>();
    const receivers = new Map<string, Set<number>>();
    for (const l of lines) {
      const id = l['jobId'] as string | undefined;
      if (!id) continue;
      if (l['msg'] === 'job succeeded') wins.set(id, (wins.get(id) ?? 0) + 1);
      if (l['msg'] === 'job received') {
        const set = receivers.get(id) ?? new Set<number>();
        set.add(l['pid'] as number);
        receivers.set(id, set);
      }
    }
    let imagesHashed = 0;
    let unloggedWins = 0;
    for (const g of gens) {
      if (g.final?.status !== 'succeeded') continue;
      const images = g.final.output.filter((p) => p.type === 'image');
      const names = await o.backend.outputNames(data.dir, g.id!);
      if (names.length !== images.length)
        violations.push(`generation ${g.id}: ${images.length} image parts but ${names.length} output objects (${names.join(', ')})`);
      const madeByWorker = images.length > 0;
      const won = wins.get(g.id!) ?? 0;
      if (won > 1) violations.push(`generation ${g.id}: ${won} 'job succeeded' transitions, expected 1`);
      if (madeByWorker && won === 0) unloggedWins += 1;
      // Read again after all the chaos: the same bytes (the output was written once, never rewritten).
      const now = await imageHashes(url, (await call(url, `/v1/generations/${g.id}`)).body.output);
      if (JSON.stringify(now) !== JSON.stringify(g.hashes) || now.some((h) => h.startsWith('HTTP')))
        violations.push(`generation ${g.id}: images ${JSON.stringify(g.hashes)} read back as ${JSON.stringify(now)}`);
      imagesHashed += now.length;
    }

    // Nothing left behind: the queue (jobs and webhook events) and the dead-letter queue drain.
    violations.push(...(await undrained(o.backend, data.dir)));
    if (kills < o.kills) violations.push(`only ${kills} of ${o.kills} kills happened`);

    if (o.logFile) writeFileSync(o.logFile, [...outputs.map((out) => out()), edge?.output() ?? ''].join('\n'));

    const kinds = { draw: 0, 'draw+webhook': 0, describe: 0, multi: 0, cancel: 0 } as Record<Kind, number>;
    for (const g of gens) kinds[g.kind] += 1;
    let failedAttempts = 0;
    for (const g of expectHook) {
      const view = (await call(url, `/v1/generations/${g.id}`)).body as { webhook?: { deliveries: { status_code: number | null }[] } };
      failedAttempts += (view.webhook?.deliveries ?? []).filter(
        (d) => d.status_code === null || d.status_code < 200 || d.status_code >= 300,
      ).length;
    }
    return {
      backend: o.backend.name,
      generations: o.generations,
      kinds,
      statuses,
      kills,
      edgeRestarts,
      webhooks: {
        expected: expectHook.length,
        delivered: expectHook.filter((g) => receiver.received.some((r) => r.id === `msg_${g.id}_completed`)).length,
        rejectedSignatures: receiver.rejected,
        failedAttempts,
        refusedByReceiver: receiver.failed,
      },
      redelivered: [...receivers.values()].filter((s) => s.size > 1).length,
      redeliveredMulti: gens.filter((g) => g.kind === 'multi' && (receivers.get(g.id!)?.size ?? 0) > 1).length,
      unloggedWins,
      imagesHashed,
      seconds: Math.round((Date.now() - started) / 1000),
      violations,
    };
  } finally {
    await Promise.all(workers.map((w) => (w ? stopProcess(w) : undefined)));
    if (edge) {
      edge.child.kill('SIGTERM');
      await edge.exited;
    }
    await receiver.close();
    data.remove();
  }
}
