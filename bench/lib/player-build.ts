import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BrowserContext } from 'playwright-core';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The commit the player is built from, and whether player/ or content/ differ from it. */
export async function playerRevision(): Promise<string> {
  const git = (...args: string[]) => promisify(execFile)('git', args, { cwd: REPO_ROOT }).then((r) => r.stdout.trim());
  try {
    const [head, dirty] = await Promise.all([git('rev-parse', '--short', 'HEAD'), git('status', '--porcelain', '--', 'player', 'content')]);
    return dirty === '' ? `commit ${head}` : `commit ${head} with uncommitted changes in player/ or content/`;
  } catch {
    return 'an unknown revision';
  }
}

/**
 * Builds the player from the current source into dist/player, where the server serves it (as
 * `npm run build` and the browser tests' global set-up do).
 */
export async function buildPlayer(): Promise<void> {
  const vite = path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--config', 'player/vite.config.ts', '--logLevel', 'warn'], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/**
 * Serves `/player/…` of `baseUrl` from `dir` (a player built elsewhere, e.g. with a candidate
 * fix) for every page of the context; the API, sockets and media still come from the server.
 * A document fulfilled by a route has no address space of its own, so the context also needs the
 * `local-network-access` permission for its socket to 127.0.0.1.
 */
export async function servePlayerFrom(context: BrowserContext, baseUrl: string, dir: string): Promise<void> {
  const origin = new URL(baseUrl).origin;
  const root = path.resolve(dir);
  await context.route(
    (url) => url.origin === origin && url.pathname.startsWith('/player/'),
    async (route) => {
      const rel = decodeURIComponent(new URL(route.request().url()).pathname.slice('/player/'.length)) || 'index.html';
      const file = path.resolve(root, rel);
      if (!file.startsWith(root + path.sep)) return route.fulfill({ status: 404 });
      try {
        const body = await readFile(file);
        return await route.fulfill({ status: 200, body, contentType: TYPES[path.extname(file)] ?? 'application/octet-stream' });
      } catch {
        return route.fulfill({ status: 404 });
      }
    },
  );
}
