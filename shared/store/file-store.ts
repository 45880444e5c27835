/**
 * The object store on the local filesystem (the embedded default).
 *
 * Layout under `root`:
 *   objects/<key>  one file per object: a one-line JSON header {etag, contentType}, then the body
 *   .tmp/          bodies being written (same filesystem, so rename is atomic)
 *   .lock.sqlite   a cross-process mutex
 *
 * Writes are atomic: the whole file is written and fsynced under a temporary name, then
 * renamed over the key, so a reader sees the old object or the new one, never a part.
 * Header and body share the file, so one rename switches both.
 *
 * Conditional writes (`ifNoneMatch: '*'`, `ifMatch`) must compare and swap atomically even
 * between processes. The check and the rename run inside a SQLite `BEGIN IMMEDIATE`
 * transaction on `.lock.sqlite`, which is a mutex shared by every process that opens the
 * root. Unlike a lock file, the OS drops it when its holder dies (even by SIGKILL), so no
 * stale lock can wedge the store. The critical section is synchronous and short (read a
 * header, rename), so holding it on the event loop costs well under a millisecond; the
 * write and fsync of the body happen before it, off the event loop (libuv's thread pool),
 * so a server using the store keeps answering while a record reaches the disk.
 */
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, renameSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { type ObjectStore, PreconditionFailedError, type PutOptions, type StoredObject } from '../ports/store.js';
import { assertValidKey, localFileUrl } from './keys.js';

export const FileStoreConfig = z
  .object({
    /** Folder that holds everything; created when missing. */
    root: z.string().min(1),
    /** How long a writer waits for another process's critical section. */
    lockTimeoutMs: z.number().int().min(0).max(60_000).default(10_000),
  })
  .strict();
export type FileStoreConfig = z.input<typeof FileStoreConfig>;

const Header = z.object({ etag: z.string().min(1), contentType: z.string().min(1).max(255) }).strict();
type Header = z.infer<typeof Header>;
const MAX_HEADER_BYTES = 1024;

export class CorruptObjectError extends Error {
  constructor(key: string, why: string) {
    super(`stored object ${key} is unreadable: ${why}`);
    this.name = 'CorruptObjectError';
  }
}

export class FileStore implements ObjectStore {
  private readonly objects: string;
  private readonly tmp: string;
  private readonly lock: Database.Database;

  constructor(config: FileStoreConfig) {
    const c = FileStoreConfig.parse(config);
    this.objects = join(c.root, 'objects');
    this.tmp = join(c.root, '.tmp');
    mkdirSync(this.objects, { recursive: true });
    mkdirSync(this.tmp, { recursive: true });
    this.lock = new Database(join(c.root, '.lock.sqlite'), { timeout: c.lockTimeoutMs });
  }

  async put(key: string, body: Uint8Array, options: PutOptions): Promise<{ etag: string }> {
    assertValidKey(key);
    const header: Header = Header.parse({ etag: sha256(body), contentType: options.contentType });
    const target = this.pathOf(key);
    const temp = join(this.tmp, randomUUID());
    let renamed = false;
    try {
      await this.ensureDir(dirname(target));
      await writeDurably(temp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]));
      this.critical(() => {
        if (options.ifNoneMatch === '*' || options.ifMatch !== undefined) {
          const current = readHeader(target, key);
          if (options.ifNoneMatch === '*' && current !== null) throw new PreconditionFailedError(key);
          if (options.ifMatch !== undefined && current?.etag !== options.ifMatch) throw new PreconditionFailedError(key);
        }
        try {
          renameSync(temp, target);
        } catch (err) {
          if (!isMissing(err)) throw err;
          // Its folder was removed since this store made it (a cleanup outside the store).
          mkdirSync(dirname(target), { recursive: true });
          renameSync(temp, target);
        }
        renamed = true;
      });
    } finally {
      if (!renamed) unlinkQuietly(temp); // the write was refused or failed
    }
    return { etag: header.etag };
  }

  async get(key: string): Promise<StoredObject | null> {
    assertValidKey(key);
    let raw: Buffer;
    try {
      raw = await readFile(this.pathOf(key));
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    const end = raw.indexOf(0x0a);
    if (end < 0 || end > MAX_HEADER_BYTES) throw new CorruptObjectError(key, 'no header line');
    const header = parseHeader(raw.subarray(0, end), key);
    return { body: new Uint8Array(raw.subarray(end + 1)), etag: header.etag, contentType: header.contentType };
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    const target = this.pathOf(key);
    this.critical(() => unlinkQuietly(target));
  }

  async urlFor(key: string): Promise<string> {
    assertValidKey(key);
    return localFileUrl(key);
  }

  /** Closes the lock database; the store is unusable afterwards. */
  close(): void {
    if (this.lock.open) this.lock.close();
  }

  /** Folders made by this store: a key's folder is created once, not at every write. */
  private readonly madeDirs = new Set<string>();

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    if (this.madeDirs.size < 10_000) this.madeDirs.add(dir);
  }

  private pathOf(key: string): string {
    return join(this.objects, ...key.split('/'));
  }

  /** Runs `fn` while holding the cross-process write lock. */
  private critical(fn: () => void): void {
    this.lock.transaction(fn).immediate();
  }
}

function sha256(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

async function writeDurably(path: string, data: Buffer): Promise<void> {
  const file = await open(path, 'wx');
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** The header of the object at `path`, or null when there is none. */
function readHeader(path: string, key: string): Header | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  try {
    const buf = Buffer.alloc(MAX_HEADER_BYTES + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const end = buf.subarray(0, n).indexOf(0x0a);
    if (end < 0) throw new CorruptObjectError(key, 'no header line');
    return parseHeader(buf.subarray(0, end), key);
  } finally {
    closeSync(fd);
  }
}

function parseHeader(line: Buffer, key: string): Header {
  try {
    return Header.parse(JSON.parse(line.toString('utf8')));
  } catch (err) {
    throw new CorruptObjectError(key, (err as Error).message);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

function isMissing(err: unknown): boolean {
  // ENOTDIR: a parent "folder" of the key is an object itself, so this key cannot exist.
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
