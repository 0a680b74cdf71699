import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppendOnlyFile } from '../../../server/services/durable-file.js';

// The append-only file under the delivery journal, on a real file. A disk that fails (full, an
// I/O error) is played by making the real file handle's write or sync fail once.

let dir = '';
let file = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'zonecast-aof-'));
  file = path.join(dir, 'log.jsonl');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

/** The file's handle, whose methods a test makes fail. */
const handleOf = (log: AppendOnlyFile) => (log as unknown as { handle: FileHandle }).handle;

describe('AppendOnlyFile', () => {
  it('takes back the part of a failed append that reached the file, so the next append starts clean', async () => {
    const { log } = await AppendOnlyFile.open(file);
    await log.append('{"a":1}\n');
    const handle = handleOf(log);
    const write = handle.write.bind(handle) as (b: Buffer, o: number, l: number) => Promise<{ bytesWritten: number }>;
    let calls = 0;
    // The disk fills up halfway through: the first part is written, then ENOSPC.
    (handle as unknown as { write: typeof write }).write = async (b, o, l) => {
      if (++calls === 1) return write(b, o, Math.floor(l / 2));
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    };
    await expect(log.append('{"b":2,"pad":"xxxxxxxxxxxxxxxx"}\n')).rejects.toThrow(/no space/);
    expect(await readFile(file, 'utf8')).toBe('{"a":1}\n');
    (handle as unknown as { write: typeof write }).write = write;
    await log.append('{"c":3}\n');
    expect(await readFile(file, 'utf8')).toBe('{"a":1}\n{"c":3}\n');
    expect(log.size).toBe(16);
    await log.close();
  });

  it('leaves out an append whose sync failed, as it was never acknowledged', async () => {
    const { log } = await AppendOnlyFile.open(file);
    const handle = handleOf(log);
    const datasync = handle.datasync.bind(handle);
    handle.datasync = async () => {
      throw Object.assign(new Error('input/output error'), { code: 'EIO' });
    };
    await expect(log.append('{"a":1}\n')).rejects.toThrow(/input\/output/);
    handle.datasync = datasync;
    expect(await readFile(file, 'utf8')).toBe('');
    await log.append('{"b":2}\n');
    await log.close();
    const { content } = await AppendOnlyFile.open(file);
    expect(content.toString('utf8')).toBe('{"b":2}\n');
  });

  it('refuses every later append when a failed one cannot be taken back', async () => {
    const { log } = await AppendOnlyFile.open(file);
    await log.append('{"a":1}\n');
    const handle = handleOf(log);
    handle.datasync = async () => {
      throw new Error('sync failed');
    };
    handle.truncate = async () => {
      throw new Error('truncate failed');
    };
    await expect(log.append('{"b":2}\n')).rejects.toThrow(/sync failed/);
    // Nothing is glued to what may be a torn record: the next start cuts it off instead.
    await expect(log.append('{"c":3}\n')).rejects.toThrow(/truncate failed/);
    await log.close();
  });
});
