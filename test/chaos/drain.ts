/**
 * Nothing left behind: the job queue (jobs and webhook events) and the dead-letter queue of
 * a chaos run drain to empty. Waits up to `timeoutMs` for messages in flight to end.
 */
import { embeddedPaths } from '../../shared/adapters.js';
import { SqliteQueue } from '../../shared/queue/sqlite-queue.js';
import { SqsQueue } from '../../shared/queue/sqs-queue.js';
import type { Backend } from '../e2e/backends.js';
import { sleep } from './client.js';

/** The violations: what the queues still hold after the wait (none: empty). */
export async function undrained(backend: Backend, dataDir: string, timeoutMs = 60_000): Promise<string[]> {
  const queue =
    backend.name === 'embedded'
      ? new SqliteQueue({ path: embeddedPaths(dataDir).queue })
      : new SqsQueue({
          queueUrl: backend.env['SQS_QUEUE_URL']!,
          endpoint: backend.env['SQS_ENDPOINT']!,
          region: backend.env['AWS_REGION']!,
        });
  const dlq = backend.deadLetters(dataDir);
  try {
    const deadline = Date.now() + timeoutMs;
    let q = await queue.stats();
    let d = await dlq.stats();
    while (Date.now() < deadline && q.visible + q.inFlight + d.visible + d.inFlight > 0) {
      await sleep(500);
      q = await queue.stats();
      d = await dlq.stats();
    }
    const left: string[] = [];
    if (q.visible + q.inFlight > 0) left.push(`the job queue still holds ${q.visible} visible and ${q.inFlight} in-flight messages`);
    if (d.visible + d.inFlight > 0) left.push(`the dead-letter queue holds ${d.visible + d.inFlight} messages`);
    return left;
  } finally {
    await queue.close();
    await dlq.close();
  }
}
