import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a benchmark's report to bench/results/, but only for a run with the default settings,
 * so that a quick or tuned run never replaces the published figures.
 */
export async function saveResults(file: string, doc: string, isDefaultRun: boolean, log: (msg: string) => void): Promise<void> {
  if (!isDefaultRun) {
    log(`non-default parameters: ${file} left as it was`);
    return;
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, doc);
  log(`wrote ${file}`);
}
