/**
 * A queued generation's place in line: messages still waiting that were sent before it was
 * created. Exact on the local queue; SQS cannot say, so there it is the number of messages
 * waiting at all (an upper bound).
 */
import type { JobQueue } from '../../shared/ports/queue.js';
import type { JobRecord } from '../../shared/schemas/job.js';

export async function queuePosition(queue: JobQueue, record: JobRecord): Promise<number | undefined> {
  if (record.status !== 'queued') return undefined;
  if (queue.waitingSentBefore) return queue.waitingSentBefore(Date.parse(record.created_at));
  return (await queue.stats()).visible;
}
