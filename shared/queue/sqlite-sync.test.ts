import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { withoutWaitingForDisk } from './sqlite-sync.js';

const FULL = 2;
const NORMAL = 1;

describe('withoutWaitingForDisk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-sync-'));
  const db = new Database(join(dir, 'q.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS t (v INTEGER)');
  const level = () => db.pragma('synchronous', { simple: true });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits at NORMAL and leaves the connection at FULL', () => {
    const seen = withoutWaitingForDisk(db, () => {
      db.prepare('INSERT INTO t (v) VALUES (1)').run();
      return level();
    });
    expect(seen).toBe(NORMAL);
    expect(level()).toBe(FULL);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 1 });
  });

  it('puts FULL back when the write throws', () => {
    expect(() =>
      withoutWaitingForDisk(db, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(level()).toBe(FULL);
  });
});
