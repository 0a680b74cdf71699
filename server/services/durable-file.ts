import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Adapter } from 'lowdb';

/** Opens `dir` and fsyncs it, so that a rename inside it survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `dir` and any missing ancestors, fsyncing each parent that gained an entry: otherwise
 * a power loss could take a new data dir, and every write acknowledged inside it, away.
 */
export async function mkdirDurably(dir: string): Promise<void> {
  const target = path.resolve(dir);
  const first = await mkdir(target, { recursive: true });
  if (first === undefined) return;
  const top = path.dirname(path.resolve(first));
  for (let d = path.dirname(target); ; d = path.dirname(d)) {
    await fsyncDir(d);
    if (d === top || d === path.dirname(d)) break;
  }
}

/** Writes `parts` one after another with as few system calls as writev allows. */
async function writeAll(handle: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  let rest = parts.filter((p) => p.length > 0);
  while (rest.length > 0) {
    // At most IOV_MAX (1024) buffers per call.
    let { bytesWritten } = await handle.writev(rest.slice(0, 1024));
    const next: Uint8Array[] = [];
    for (const p of rest) {
      if (bytesWritten >= p.length) bytesWritten -= p.length;
      else {
        next.push(bytesWritten > 0 ? p.subarray(bytesWritten) : p);
        bytesWritten = 0;
      }
    }
    rest = next;
  }
}

/**
 * Writes `data` to `file` so that after a crash the file holds either the old or the new bytes.
 * `data` may be an async iterable of chunks, so that a large file is built without holding the
 * event loop for the whole of it.
 */
export async function writeFileDurably(file: string, data: string | Uint8Array | readonly Uint8Array[] | AsyncIterable<string>): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
    else if (Array.isArray(data)) await writeAll(handle, data as readonly Uint8Array[]);
    else for await (const chunk of data as AsyncIterable<string>) await handle.writeFile(chunk);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dir);
}

// The UTF-8 JSON of each top-level value of a document, by identity. A committed document is
// never mutated (the store copies what a mutation touches and shares the rest), so a collection
// that is the same object as at the last write has the same bytes.
const topLevelJson = new WeakMap<object, Buffer>();

/**
 * `JSON.stringify(data)` as UTF-8 parts, for a document object, serializing and encoding only the
 * top-level values that are new objects since an earlier call: a write that touched one small
 * collection no longer pays for every screen. The values must not be mutated once serialized.
 */
export function serializeDocument(data: unknown): Buffer[] {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return [Buffer.from(JSON.stringify(data) ?? 'null', 'utf8')];
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(data)) {
    let json: Buffer | undefined;
    if (value !== null && typeof value === 'object') {
      json = topLevelJson.get(value);
      if (json === undefined) {
        const text = JSON.stringify(value) as string | undefined;
        if (text !== undefined) topLevelJson.set(value, (json = Buffer.from(text, 'utf8')));
      }
    } else {
      const text = JSON.stringify(value) as string | undefined;
      if (text !== undefined) json = Buffer.from(text, 'utf8');
    }
    // As JSON.stringify does: a key whose value has no JSON form (undefined, a function) is left out.
    if (json === undefined) continue;
    parts.push(Buffer.from(`${parts.length === 0 ? '{' : ','}${JSON.stringify(key)}:`, 'utf8'), json);
  }
  parts.push(Buffer.from(parts.length === 0 ? '{}' : '}', 'utf8'));
  // Written as they are (writev): no copy of the whole document for each write.
  return parts;
}

/**
 * A lowdb adapter that acknowledges a write only after the temp file is fsynced, renamed over
 * the target and the directory fsynced. lowdb's own JSONFile does none of this (steno renames
 * without fsync), and its presets swap in memory storage under NODE_ENV=test.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  constructor(readonly file: string) {}

  async read(): Promise<T | null> {
    await mkdirDurably(path.dirname(this.file));
    await removeStaleTemps(this.file);
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return JSON.parse(text) as T;
  }

  async write(data: T): Promise<void> {
    await writeFileDurably(this.file, serializeDocument(data));
  }
}

/**
 * An append-only file of newline-terminated records (JSON Lines), each append acknowledged only
 * once fdatasynced. After a crash only the last, unacknowledged append can be incomplete: `open`
 * hands back the file's bytes, and the owner, having found where its valid records end, cuts the
 * rest off with `truncate` before appending again, so that no new record is glued to a torn one.
 */
export class AppendOnlyFile {
  private constructor(
    readonly file: string,
    private handle: FileHandle,
    private bytes: number,
  ) {}

  /** Opens (creating it, and its directory, durably) `file` and reads what it holds. */
  static async open(file: string): Promise<{ log: AppendOnlyFile; content: Buffer }> {
    const dir = path.dirname(file);
    await mkdirDurably(dir);
    await removeStaleTemps(file);
    let content: Buffer;
    let created = false;
    try {
      content = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      content = Buffer.alloc(0);
      created = true;
    }
    const handle = await open(file, 'a', 0o600);
    // A new file's directory entry must survive a power loss with the records in it.
    if (created) await fsyncDir(dir);
    return { log: new AppendOnlyFile(file, handle, content.length), content };
  }

  /** Why nothing more may be appended (a failed append that could not be taken back), or null. */
  private broken: Error | null = null;

  /** Bytes in the file. */
  get size(): number {
    return this.bytes;
  }

  /** Cuts the file to its first `bytes` (the valid records), durably. */
  async truncate(bytes: number): Promise<void> {
    await this.handle.truncate(bytes);
    await this.handle.sync();
    this.bytes = bytes;
  }

  /**
   * Appends `text` and resolves once it is on disk. When the write or the sync fails, whatever
   * part of it reached the file is cut off again before the error is thrown, so that the file
   * holds exactly the appends that resolved; if even that fails, every later append is refused
   * (the next start cuts the torn rest off), rather than glue a record to a torn one.
   */
  async append(text: string): Promise<void> {
    if (this.broken) throw this.broken;
    const data = Buffer.from(text, 'utf8');
    const before = this.bytes;
    try {
      // O_APPEND: every write lands at the end, whatever the position.
      let written = 0;
      while (written < data.length) written += (await this.handle.write(data, written, data.length - written)).bytesWritten;
      await this.handle.datasync();
    } catch (err) {
      await this.truncate(before).catch((e: unknown) => {
        this.broken = e instanceof Error ? e : new Error(String(e));
      });
      throw err;
    }
    this.bytes = before + data.length;
  }

  /**
   * Replaces the whole file with `chunks` (compaction): a crash leaves either the old or the new
   * file. Whether it succeeds or fails, appends go on to the file at this path, which the rename
   * may have replaced even when a later step failed.
   */
  async replace(chunks: AsyncIterable<string>): Promise<void> {
    try {
      await writeFileDurably(this.file, chunks);
    } finally {
      try {
        const next = await open(this.file, 'a', 0o600);
        await this.handle.close().catch(() => undefined);
        this.handle = next;
        this.bytes = (await next.stat()).size;
      } catch (e) {
        this.broken = e instanceof Error ? e : new Error(String(e));
      }
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Temp files left by a crash mid-write (see writeFileDurably) never held acknowledged data. */
async function removeStaleTemps(file: string): Promise<void> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  for (const name of await readdir(dir)) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) await unlink(path.join(dir, name)).catch(() => undefined);
  }
}
