/**
 * `npm run audit:verify [-- --data-dir DIR] [-- --json]`: checks the audit log's hash chain
 * against the anchor in the store. Exits 0 when intact, 1 when a problem is found, 2 when it
 * cannot run (bad arguments, unreadable store).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { verifyAudit, type AuditProblem, type AuditVerifyResult } from '../services/audit-log.js';
import type { Data } from '../services/store.js';

const USAGE = `用法 Usage: npm run audit:verify -- [--data-dir DIR] [--json]
  --data-dir DIR  数据目录 data directory (default: $DATA_DIR or ./data)
  --json          输出 JSON 结果 print the result as JSON`;

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): { dataDir: string; json: boolean; help: boolean } {
  let dataDir: string | undefined;
  let json = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--data-dir') {
      const v = argv[++i];
      if (!v) throw new UsageError('--data-dir needs a value');
      dataDir = v;
    } else if (arg.startsWith('--data-dir=')) dataDir = arg.slice('--data-dir='.length);
    else throw new UsageError(`unknown argument "${arg}"`);
  }
  // The same default as server/config.ts, so that the tool checks what the server writes.
  return { dataDir: path.resolve(dataDir || process.env.DATA_DIR || 'data'), json, help };
}

/**
 * The anchor as the store holds it. Read straight from the file, not through createStore: that
 * would tidy a live server's temp files away mid-write.
 */
async function readAnchor(dataDir: string): Promise<Pick<Data, 'audit'>> {
  const file = path.join(dataDir, 'zonecast.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the store ${file}: ${(e as Error).message}`);
  }
  let data: Partial<Data>;
  try {
    data = JSON.parse(text) as Partial<Data>;
  } catch (e) {
    throw new UsageError(`the store ${file} is not valid JSON: ${(e as Error).message}`);
  }
  // A store from before the audit log has no anchor: an empty log is then what it should have.
  return { audit: data.audit ?? { head: null, outbox: [] } };
}

/**
 * Verifies, re-reading the anchor when a run fails while the anchor moved: a live server may
 * append to the files and clear its outbox between our reading the store and the files, which
 * would look like a log running past its anchor. A real problem fails every time.
 */
async function verifyStable(dataDir: string): Promise<AuditVerifyResult> {
  let anchor = await readAnchor(dataDir);
  for (let attempt = 0; ; attempt++) {
    const result = await verifyAudit(dataDir, anchor);
    if (result.ok || attempt === 4) return result;
    const again = await readAnchor(dataDir);
    if (JSON.stringify(again.audit) === JSON.stringify(anchor.audit)) return result;
    anchor = again;
  }
}

function where(p: AuditProblem): string {
  const parts = [p.file && (p.line ? `${p.file}:${p.line}` : p.file), p.seq !== undefined ? `seq ${p.seq}` : ''].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function report(dataDir: string, r: AuditVerifyResult): string {
  const range = r.firstSeq === null ? '无记录 no entries' : `第 ${r.firstSeq}–${r.lastSeq} 条 seq ${r.firstSeq}–${r.lastSeq}`;
  const lines = [
    `审计日志目录 Audit log: ${path.join(dataDir, 'audit')}`,
    `  ${r.files} 个文件 files, ${r.entries} 条记录 entries, ${range}; 锚点 anchor: ${r.anchor ? `seq ${r.anchor.seq}` : '无 none'}`,
  ];
  if (r.ok) lines.push('审计日志完整,哈希链校验通过。 Audit log intact: the hash chain verifies.');
  else lines.push(`审计日志校验失败,发现 ${r.problems.length} 个问题: Audit log verification FAILED, ${r.problems.length} problem(s):`);
  for (const p of r.problems) lines.push(`  ✗ [${p.code}]${where(p)} ${p.message.zh} / ${p.message.en}`);
  for (const p of r.notices) lines.push(`  · [${p.code}]${where(p)} ${p.message.zh} / ${p.message.en}`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  try {
    const args = parseArgs(process.argv.slice(2));
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    const result = await verifyStable(args.dataDir);
    console.log(args.json ? JSON.stringify(result, null, 2) : report(args.dataDir, result));
    return result.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`错误 Error: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 2;
  },
);
