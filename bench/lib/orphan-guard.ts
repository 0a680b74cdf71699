import { rmSync } from 'node:fs';

// Loaded into the server child with `--import`: if the bench dies without running its exit
// hooks (SIGKILL, OOM), the server notices it was re-parented, removes the temp data directory
// the bench made for it, and exits instead of lingering.
const parentAtStart = process.ppid;
const ownedDir = process.env.BENCH_OWNED_DATA_DIR;
setInterval(() => {
  if (process.ppid === parentAtStart) return;
  if (ownedDir) rmSync(ownedDir, { recursive: true, force: true });
  process.exit(1);
}, 1000).unref();
