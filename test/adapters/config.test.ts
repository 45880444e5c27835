import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExports } from '../../infra/local/servers.js';
import { openAdapters } from '../../shared/adapters.js';
import { openQueues } from '../../shared/queue/index.js';
import { openStore, S3Store } from '../../shared/store/index.js';
import { tempDir } from './tmp-dir.js';

describe('back ends chosen by configuration', () => {
  it('opens the embedded queue and its dead-letter queue in one file', async () => {
    const tmp = tempDir('config');
    const { queue, deadLetters, close } = openQueues({ kind: 'sqlite', path: join(tmp.dir, 'q.sqlite') });
    await deadLetters.send('x');
    expect(await queue.stats()).toEqual({ visible: 0, inFlight: 0 });
    expect(await deadLetters.stats()).toEqual({ visible: 1, inFlight: 0 });
    await close();
    tmp.remove();
  });

  it('dead-letters after QUEUE_MAX_RECEIVE_COUNT receives on the embedded queue, 3 unless told', async () => {
    const tmp = tempDir('config');
    const base = { store: 'file', queue: 'sqlite', dataDir: tmp.dir, visibilityTimeoutSeconds: 1, presignExpiresSeconds: 60 } as const;
    const told = openAdapters({ ...base, queueMaxReceiveCount: 1 });
    await told.queue.send('poison');
    expect((await told.queue.receive({ maxMessages: 1, waitSeconds: 0 })).length).toBe(1);
    await new Promise((r) => setTimeout(r, 1_100)); // its visibility lapses: one receive was all it had
    expect(await told.queue.receive({ maxMessages: 1, waitSeconds: 0 })).toEqual([]);
    expect(await told.deadLetters!.stats()).toEqual({ visible: 1, inFlight: 0 });
    expect(told.maxReceiveCount).toBe(1);
    await told.close();
    const plain = openAdapters(base);
    expect(plain.maxReceiveCount).toBe(3);
    await plain.close();
    tmp.remove();
  });

  it('opens SQS queues without touching the network', async () => {
    const q = openQueues({
      kind: 'sqs',
      region: 'us-east-1',
      queueUrl: 'http://127.0.0.1:1/000000000000/jobs',
      deadLetterQueueUrl: 'http://127.0.0.1:1/000000000000/jobs-dlq',
    });
    await q.close();
  });

  it('opens the file store and the S3 store', () => {
    const tmp = tempDir('config');
    const file = openStore({ kind: 'file', root: tmp.dir });
    file.close();
    tmp.remove();
    const s3 = openStore({ kind: 's3', bucket: 'my-bucket', region: 'us-east-1', forcePathStyle: true });
    expect(s3).toBeInstanceOf(S3Store);
    s3.close();
  });

  it('names the bad field in its error', () => {
    expect(() => openQueues({ kind: 'sqs', queueUrl: 'nope', deadLetterQueueUrl: 'http://x/y' } as never)).toThrow(/queueUrl/);
    expect(() => openStore({ kind: 'ftp' } as never)).toThrow(/kind/);
    expect(() => openQueues({ kind: 'sqlite', path: 'x', visibilityTimeoutSeconds: -1 })).toThrow(/visibilityTimeoutSeconds/);
  });
});

describe('servers.sh env output', () => {
  it('parses export lines', () => {
    expect(parseExports('export A=1\nexport B_2=http://x:9/y\nnoise\n')).toEqual({ A: '1', B_2: 'http://x:9/y' });
  });
});
