import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Builds the player and the composer once, so that the server under test serves what production serves. */
export default function setup(): void {
  for (const app of ['player', 'composer']) {
    execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', `${app}/vite.config.ts`, '--logLevel', 'warn'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: 'inherit',
    });
  }
}
