import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Builds the player and the composer once, so that the server under test serves what production
 * serves. Both browser lanes name this setup; vitest runs global setups in its main process, so
 * a flag there keeps the second lane from building (and emptying dist/) under the first.
 */
export default function setup(): void {
  const g = globalThis as { zonecastBrowserBuild?: boolean };
  if (g.zonecastBrowserBuild) return;
  g.zonecastBrowserBuild = true;
  for (const app of ['player', 'composer']) {
    execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', `${app}/vite.config.ts`, '--logLevel', 'warn'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: 'inherit',
    });
  }
}
