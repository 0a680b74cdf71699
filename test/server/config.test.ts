import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.js';
import { buildTestApp, connectScreen, once } from '../helpers/app.js';

describe('configuration', () => {
  it('runs the embedded demo with defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', timeZone: 'Asia/Shanghai', publicUrl: null, tls: null, demo: true, mmPerMetre: 8.3 });
    expect(loadConfig({ ZONECAST_MM_PER_METRE: '10' }).mmPerMetre).toBe(10);
    expect(c.naming.village).toBe('{city}{town}{village}政务公开专区');
  });

  it('reads every documented variable', () => {
    const c = loadConfig({ PORT: '9000', HOST: '127.0.0.1', DATA_DIR: '/tmp/zc', ZONECAST_TZ: 'Asia/Urumqi', PUBLIC_URL: 'https://zc.example.lan/', ZONECAST_DEMO: 'false' });
    expect(c).toMatchObject({ port: 9000, host: '127.0.0.1', dataDir: '/tmp/zc', timeZone: 'Asia/Urumqi', publicUrl: 'https://zc.example.lan', demo: false });
  });

  it('stops with a readable message on bad values', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ ZONECAST_TZ: 'Mars/Olympus_Mons' })).toThrow(/ZONECAST_TZ/);
    expect(() => loadConfig({ TLS_CERT: '/etc/hostname' })).toThrow(/TLS_CERT and TLS_KEY/);
    expect(() => loadConfig({ TLS_CERT: '/nonexistent.pem', TLS_KEY: '/nonexistent.key' })).toThrow(/Cannot read/);
    expect(() => loadConfig({ PUBLIC_URL: 'zonecast.lan' })).toThrow(/PUBLIC_URL/);
    expect(() => loadConfig({ ZONECAST_NAMING: '{"city":1}' })).toThrow(/ZONECAST_NAMING/);
    expect(() => loadConfig({ ZONECAST_DEMO: 'maybe' })).toThrow(/ZONECAST_DEMO/);
    expect(() => loadConfig({ ZONECAST_MM_PER_METRE: 'big' })).toThrow(/ZONECAST_MM_PER_METRE/);
  });
});

describe('HTTPS', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'zonecast-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=zonecast.test',
      '-addext', 'subjectAltName=DNS:zonecast.test,IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('serves the API and screen sockets over TLS when TLS_CERT and TLS_KEY are set', async () => {
    const t = await buildTestApp({ demo: true, env: { TLS_CERT: path.join(dir, 'cert.pem'), TLS_KEY: path.join(dir, 'key.pem') } });
    try {
      const url = await t.listen();
      expect(url).toMatch(/^https:/);
      const body = await new Promise<string>((resolve, reject) => {
        request(`${url}/api/health`, { rejectUnauthorized: false }, (res) => {
          let s = '';
          res.on('data', (c: Buffer) => (s += c.toString()));
          res.on('end', () => resolve(s));
        })
          .on('error', reject)
          .end();
      });
      expect(JSON.parse(body)).toMatchObject({ ok: true });
      const screen = t.demo[0];
      const socket = connectScreen(url, screen?.token ?? '', { rejectUnauthorized: false });
      try {
        const welcome = await once(socket, 'screen:welcome');
        expect(welcome.screenId).toBe(screen?.id);
      } finally {
        socket.disconnect();
      }
    } finally {
      await t.close();
    }
  });
});
