/**
 * Delivers one webhook message: the job's current state, signed with the tenant's secret
 * (Standard Webhooks, its own library), POSTed through the SSRF guard. Every attempt goes
 * into the delivery log; a failed one is followed by a new, delayed message on the same
 * durable queue (schedule.ts), so retries survive any restart. The message is deleted
 * last: a crash mid-delivery means another attempt with the same webhook-id, never none.
 */
import { Webhook } from 'standardwebhooks';
import type { JobRepository } from '../jobs/repository.js';
import type { Logger } from '../logging/index.js';
import type { JobQueue, ReceivedMessage } from '../ports/queue.js';
import type { ObjectStore } from '../ports/store.js';
import type { JobRecord } from '../schemas/job.js';
import { BlockedAddressError, type PostOptions, type PostResult, postWebhook } from './http-post.js';
import { readDeliveryLog, updateDeliveryLog } from './log.js';
import { encodeWebhookMessage, type WebhookMessage } from './message.js';
import { nextAttemptAt } from './schedule.js';
import type { WebhookDelivery } from './schema.js';
import { secretFor, tenantOf, type WebhookSecrets } from './secrets.js';

export interface WebhookSettings {
  secrets: WebhookSecrets;
  /** WEBHOOK_ALLOW_PRIVATE=1: private addresses and plain http allowed. */
  allowPrivate: boolean;
  /** First retry's wait; each next one is 4x longer (default 10 s). */
  retryBaseMs: number;
  /** How long a receiver may take to answer (default 10 s). */
  timeoutMs: number;
}

export interface DelivererDeps {
  queue: JobQueue;
  store: ObjectStore;
  jobs: Pick<JobRepository<JobRecord>, 'get'>;
  settings: WebhookSettings;
  /** The generation as the API shows it (the payload's `data`). */
  view: (record: JobRecord) => Promise<unknown>;
  logger: Logger;
  now?: () => number;
  post?: (url: string, headers: Record<string, string>, body: string, options: PostOptions) => Promise<PostResult>;
}

/** An early message (a long wait on SQS, whose delays stop at 15 min) is sent on when more than this is left. */
const EARLY_SLACK_MS = 1000;

export class WebhookDeliverer {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: DelivererDeps) {}

  get busy(): number {
    return this.inFlight.size;
  }

  /** Starts handling a received webhook message; errors leave it for redelivery. */
  start(message: ReceivedMessage, webhook: WebhookMessage): void {
    const task: Promise<void> = this.handle(message, webhook)
      .catch((err: unknown) =>
        this.deps.logger.error(
          { err, jobId: webhook.jobId, webhookId: webhook.webhookId },
          'webhook handling failed; the message comes back after its visibility timeout',
        ),
      )
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  /** Resolves when every started delivery has finished (shutdown). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async handle(message: ReceivedMessage, webhook: WebhookMessage): Promise<void> {
    const { queue, settings } = this.deps;
    const now = this.now();
    const log = this.deps.logger.child({
      jobId: webhook.jobId,
      requestId: webhook.requestId,
      webhookId: webhook.webhookId,
      attempt: webhook.attempt,
    });
    if (webhook.notBefore - now > EARLY_SLACK_MS) {
      await queue.send(message.body, { delaySeconds: Math.ceil((webhook.notBefore - now) / 1000) });
      await queue.delete(message.receiptHandle);
      return;
    }
    // Keep it hidden for the whole attempt, whatever the queue's visibility timeout.
    await queue.extendVisibility(message.receiptHandle, Math.ceil(settings.timeoutMs / 1000) + 30).catch(() => {});

    const record = await this.deps.jobs.get(webhook.jobId);
    if (!record) {
      log.warn('webhook for an unknown job; dropped');
      await queue.delete(message.receiptHandle);
      return;
    }
    const url = record.webhook?.url;
    const history = await readDeliveryLog(this.deps.store, webhook.jobId);
    if (url === undefined || history?.deliveries.some((d) => d.webhook_id === webhook.webhookId && isSuccess(d.status_code))) {
      await queue.delete(message.receiptHandle); // delivered already (a duplicate message) or no webhook
      return;
    }

    const secret = secretFor(settings.secrets, tenantOf(record));
    let result: { statusCode: number | null; error?: string; permanent: boolean };
    if (!secret) {
      result = { statusCode: null, error: 'no webhook secret is configured for this tenant', permanent: true };
    } else {
      result = await this.attempt(url, secret, webhook, record);
    }
    const ok = isSuccess(result.statusCode);
    const next = ok || result.permanent ? null : nextAttemptAt(webhook.attempt, webhook.firstQueuedAt, this.now(), settings.retryBaseMs);
    const delivery: WebhookDelivery = {
      event: webhook.event,
      webhook_id: webhook.webhookId,
      attempt: webhook.attempt,
      status_code: result.statusCode,
      ...(result.error ? { error: result.error } : {}),
      at: new Date(now).toISOString(),
      ...(next !== null ? { next_attempt_at: new Date(next).toISOString() } : {}),
    };
    await updateDeliveryLog(this.deps.store, webhook.jobId, (current) => ({ ...current, deliveries: [...current.deliveries, delivery] }));
    if (next !== null) {
      await queue.send(encodeWebhookMessage({ ...webhook, attempt: webhook.attempt + 1, notBefore: next }), {
        delaySeconds: Math.ceil((next - this.now()) / 1000),
      });
    }
    await queue.delete(message.receiptHandle);
    if (ok) log.info({ statusCode: result.statusCode }, 'webhook delivered');
    else
      log.warn(
        { statusCode: result.statusCode, error: result.error, nextAttemptAt: delivery.next_attempt_at },
        next === null ? 'webhook delivery failed; giving up' : 'webhook delivery failed; will retry',
      );
  }

  private async attempt(
    url: string,
    secret: string,
    webhook: WebhookMessage,
    record: JobRecord,
  ): Promise<{ statusCode: number | null; error?: string; permanent: boolean }> {
    const sentAt = new Date(this.now());
    const payload = JSON.stringify({
      type: `generation.${webhook.event}`,
      timestamp: sentAt.toISOString(),
      data: await this.deps.view(record),
    });
    const headers = {
      'webhook-id': webhook.webhookId,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(webhook.webhookId, sentAt, payload),
    };
    const post = this.deps.post ?? postWebhook;
    try {
      const { statusCode } = await post(url, headers, payload, {
        allowPrivate: this.deps.settings.allowPrivate,
        timeoutMs: this.deps.settings.timeoutMs,
      });
      return { statusCode, permanent: false };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof BlockedAddressError) return { statusCode: null, error: `blocked: ${message}`, permanent: true };
      return { statusCode: null, error: message.slice(0, 300), permanent: false };
    }
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}

function isSuccess(status: number | null): boolean {
  return status !== null && status >= 200 && status < 300;
}
