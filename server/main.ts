import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { hashToken } from './services/realtime.js';
import { ensureAdmin } from './seed/admin.js';
import { readDemoScreens, readDemoUsers, seedDemo, seedDemoUsers } from './seed/demo.js';

function baseUrl(config: Config, port: number): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return `${config.tls ? 'https' : 'http'}://${host}:${port}`;
}

/** Reads the environment, starts the server, seeds the demo on first start and prints where to go. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`配置错误 Configuration error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const app = await buildApp({ config, logger: { level: config.logLevel } });
  await app.ready();
  // The system-wide admin comes first: on a store without accounts, demo or not.
  const admin = await ensureAdmin(app.store, config.adminPassword);
  if (config.demo) {
    await seedDemo({ store: app.store, media: app.media, dataDir: config.dataDir });
    await seedDemoUsers({ store: app.store, dataDir: config.dataDir });
  }
  await app.listen({ port: config.port, host: config.host });

  closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = baseUrl(config, port);
  const tokens = new Set(app.store.read().screens.map((s) => s.tokenHash));
  const demo = (await readDemoScreens(config.dataDir)).filter((s) => tokens.has(hashToken(s.token)));
  const lines = [
    '',
    `ZoneCast 政务公开专区信息发布系统 is running at ${url}`,
    `  管理后台 Composer:   ${url}/composer/`,
    `  API 文档 API docs:   ${url}/api/docs`,
    `  健康检查 Health:     ${url}/api/health`,
    `  数据目录 Data dir:   ${config.dataDir}`,
  ];
  if (admin) {
    lines.push(
      admin.generated
        ? `  首个管理员 First admin: ${admin.username} / ${admin.password}   (只显示这一次,请登录后修改密码 — shown only this once; change it after logging in)`
        : `  首个管理员 First admin: ${admin.username} (密码来自 ZONECAST_ADMIN_PASSWORD — password from ZONECAST_ADMIN_PASSWORD)`,
    );
  }
  const users = await readDemoUsers(config.dataDir, app.store);
  if (users.length > 0) {
    lines.push('  演示账号 Demo accounts (用户名 / 密码,角色,专区 — username / password, role, zone):');
    for (const u of users) lines.push(`    ${u.username} / ${u.password}   ${u.roleLabel} ${u.role}, ${u.zoneName}`);
  }
  if (demo.length > 0) {
    lines.push('  演示屏幕 Demo screens (open one in a browser; the token is needed only the first time):');
    for (const s of demo) lines.push(`    ${s.name} (${s.zoneName}, ${s.width}×${s.height}): ${url}/player/?token=${encodeURIComponent(s.token)}`);
  }
  console.log(lines.join('\n') + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
