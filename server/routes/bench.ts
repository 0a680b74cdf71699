import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { stat } from 'node:fs/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AlertShowSchema, IdSchema, ScreenInputSchema, rooms } from '../../content/index.js';
import { AppError } from '../errors.js';
import { actorOf, assertAllowed } from '../plugins/auth.js';
import { recordAudit } from '../services/audit.js';
import { DELIVERY_JOURNAL_FILE, type DeliveryDraft } from '../services/delivery-journal.js';
import { newDeviceToken } from '../services/pairing.js';
import { hashToken } from '../services/realtime.js';
import type { Data, StoredScreen } from '../services/store.js';
import { newId } from './crud.js';

const bench = { auth: { permission: 'zone:write' } } as const;

/** Epoch milliseconds with a fraction: the wall clock that Date.now() reads, finer. */
const now = () => performance.timeOrigin + performance.now();

/** How many of each kind of trace entry are kept (the newest): a bounded, constant cost on the heap the benches read. */
const TRACE_KEEP = 2_000;

/** Emits to staff (one per acknowledgement, one per connection) that would crowd the trace out: not traced. */
const UNTRACED = new Set(['alert:delivery', 'screen:status']);

const SpanSchema = Type.Object({ start: Type.Number(), end: Type.Number() });
const TraceSchema = Type.Object({
  writes: Type.Array(Type.Object({ ...SpanSchema.properties, ok: Type.Boolean(), target: Type.Enum(['store', 'journal'] as const) }), {
    description: 'store.write and delivery journal write calls: called → resolved (queueing, the mutation, the durable write)',
  }),
  broadcasts: Type.Array(Type.Object({ ...SpanSchema.properties, event: Type.String(), acked: Type.Boolean() }), {
    description: 'Room emits: the synchronous encode-and-write to every socket in the rooms',
  }),
  gcs: Type.Array(SpanSchema, { description: 'Garbage collections of the server (each a pause of its event loop)' }),
});

/**
 * Times every store write and every room emit, for the benchmarks to split a latency into its
 * parts. One clock read at each end and an array push: nothing the measured paths would notice.
 */
function installTrace(app: FastifyInstance): { writes: Write[]; broadcasts: { start: number; end: number; event: string; acked: boolean }[]; gcs: { start: number; end: number }[] } {
  const trace = { writes: [] as Write[], broadcasts: [] as { start: number; end: number; event: string; acked: boolean }[], gcs: [] as { start: number; end: number }[] };
  const keep = <T>(list: T[], entry: T) => {
    list.push(entry);
    if (list.length > TRACE_KEEP) list.splice(0, list.length - TRACE_KEEP);
  };
  const timed = <T>(target: Write['target'], done: Promise<T>, start: number): Promise<T> => {
    done.then(
      () => keep(trace.writes, { start, end: now(), ok: true, target }),
      () => keep(trace.writes, { start, end: now(), ok: false, target }),
    );
    return done;
  };
  const store = app.store;
  const write = store.write.bind(store);
  // The start is read before the call: a write runs its mutation and serializes synchronously.
  store.write = <T>(mutate: (draft: Data, base: Readonly<Data>) => T): Promise<T> => {
    const start = now();
    return timed('store', write(mutate), start);
  };
  const journal = app.deliveries;
  const append = journal.write.bind(journal);
  journal.write = <T>(mutate: (draft: DeliveryDraft) => T): Promise<T> => {
    const start = now();
    return timed('journal', append(mutate), start);
  };
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) keep(trace.gcs, { start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.startTime + e.duration });
  });
  gc.observe({ entryTypes: ['gc'] });
  app.addHook('onClose', async () => gc.disconnect());
  const adapter = app.realtime.io.sockets.adapter;
  const eventOf = (packet: unknown) => String((packet as { data?: unknown[] }).data?.[0] ?? '');
  const broadcast = adapter.broadcast.bind(adapter);
  adapter.broadcast = (packet, opts) => {
    const start = now();
    broadcast(packet, opts);
    const event = eventOf(packet);
    if (!UNTRACED.has(event)) keep(trace.broadcasts, { start, end: now(), event, acked: false });
  };
  const broadcastWithAck = adapter.broadcastWithAck.bind(adapter);
  adapter.broadcastWithAck = (packet, opts, count, ack) => {
    const start = now();
    broadcastWithAck(packet, opts, count, ack);
    keep(trace.broadcasts, { start, end: now(), event: eventOf(packet), acked: true });
  };
  return trace;
}

interface Write {
  start: number;
  end: number;
  ok: boolean;
  target: 'store' | 'journal';
}

/** Screens made at once by the bench fixture; the API's POST /api/screens makes one per request. */
const MAX_BULK_SCREENS = 5_000;

/** socket.io-parser's EVENT packet type (not a direct dependency; the number is the wire protocol's). */
const EVENT_PACKET = 2;

/**
 * Registered only with ZONECAST_BENCH_ROUTES=1: the baselines the benchmarks compare against,
 * and the server's heap for them to read. Never in production.
 */
export default async function benchRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  const trace = installTrace(appIn);

  // npm run bench:push: a bare broadcast to a zone's room.
  app.post(
    '/api/_bench/broadcast',
    {
      config: bench,
      schema: {
        hide: true,
        body: Type.Object({ zoneId: IdSchema, seq: Type.Integer(), bytes: Type.Integer({ minimum: 0, maximum: 10_000_000 }) }, { additionalProperties: false }),
      },
    },
    async (req) => {
      const { zoneId, seq, bytes } = req.body;
      app.realtime.io.to(rooms.zone(zoneId)).emit('bench:ping', { seq, pad: 'x'.repeat(bytes) });
      return { ok: true };
    },
  );

  // npm run bench:alert: the same `alert:show` payload as one room broadcast with
  // acknowledgement, with the server's clock read as each socket's acknowledgement arrives.
  app.post(
    '/api/_bench/emit-ack',
    {
      config: bench,
      schema: {
        hide: true,
        body: Type.Object({ zoneId: IdSchema, payload: AlertShowSchema, timeoutMs: Type.Integer({ minimum: 1, maximum: 300_000 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            startedAt: Type.Number({ description: 'Server clock (epoch ms) when the handler began' }),
            expected: Type.Integer({ description: 'Sockets the emit reached' }),
            arrivals: Type.Array(Type.Number(), { description: 'Server clock (epoch ms) at each acknowledgement, in arrival order' }),
            timedOut: Type.Boolean(),
          }),
        },
      },
    },
    async (req) => {
      const { zoneId, payload, timeoutMs } = req.body;
      const startedAt = Date.now();
      const adapter = app.realtime.io.sockets.adapter;
      const arrivals: number[] = [];
      let expected = -1;
      // What `io.timeout(ms).to(room).emit(ev, payload, cb)` does (socket.io's BroadcastOperator):
      // one encoded packet written to every socket in the room, each socket's acknowledgement
      // routed back by packet id. Calling the adapter ourselves keeps that path and that cost,
      // but gives the time of each acknowledgement, where the operator's callback gives only
      // the last. An emit per socket would encode the payload once per socket, a slower
      // baseline than the alert's own single room emit.
      const packet: { type: number; data: unknown[]; id?: number } = { type: EVENT_PACKET, data: ['alert:show', payload] };
      const timedOut = await new Promise<boolean>((resolve) => {
        let settled = false;
        const settle = (late: boolean) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(late);
        };
        const timer = setTimeout(() => settle(true), timeoutMs);
        adapter.broadcastWithAck(
          packet,
          { rooms: new Set([rooms.zone(zoneId)]), except: new Set(), flags: {} },
          (clientCount: number) => {
            expected = clientCount;
            if (arrivals.length === expected) settle(false);
          },
          () => {
            arrivals.push(Date.now());
            if (arrivals.length === expected) settle(false);
          },
        );
      }).then((late) => {
        // As the operator does on a timeout: forget the waiting acknowledgements.
        if (late && packet.id !== undefined) {
          for (const s of app.realtime.io.sockets.sockets.values()) (s as unknown as { acks: Map<number, unknown> }).acks.delete(packet.id);
        }
        return late;
      });
      return { startedAt, expected, arrivals, timedOut };
    },
  );

  // npm run bench:alert's fixture: many screens in one store write, as POST /api/screens makes
  // them one by one (same fields, token and audit entry each), which for 10,000 screens would be
  // 10,000 writes that each copy the whole screens collection.
  app.post(
    '/api/_bench/screens',
    {
      config: bench,
      schema: {
        hide: true,
        body: Type.Object(
          {
            screen: Type.Omit(ScreenInputSchema, ['id', 'name']),
            namePrefix: Type.String({ minLength: 1, maxLength: 40 }),
            first: Type.Integer({ minimum: 1, description: 'Number of the first screen, for its name' }),
            count: Type.Integer({ minimum: 1, maximum: MAX_BULK_SCREENS }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Array(Type.Object({ screenId: IdSchema, token: Type.String() })) },
      },
    },
    async (req, reply) => {
      const { screen, namePrefix, first, count } = req.body;
      // As POST /api/screens: only in a zone the account may administer.
      assertAllowed(req, app.store.read(), 'zone:write', screen.zoneId);
      const made = Array.from({ length: count }, (_, i) => ({ id: newId('scr'), token: newDeviceToken(), name: `${namePrefix} ${String(first + i).padStart(5, '0')}` }));
      await app.store.write((draft, base) => {
        if (!base.zones.some((z) => z.id === screen.zoneId)) throw new AppError('REFERENCE_MISSING', `zones/${screen.zoneId}`);
        if (screen.layoutId !== null && !base.layouts.some((l) => l.id === screen.layoutId)) throw new AppError('REFERENCE_MISSING', `layouts/${screen.layoutId}`);
        const at = new Date().toISOString();
        const docs: StoredScreen[] = made.map((m) => ({ ...structuredClone(screen), id: m.id, name: m.name, tokenHash: hashToken(m.token), createdAt: at, updatedAt: at }));
        draft.screens = [...base.screens, ...docs];
        for (const doc of docs) recordAudit(draft, { actor: actorOf(req), action: 'screen.create', entity: 'screen', entityId: doc.id, zoneId: doc.zoneId, after: doc });
      });
      return reply.status(201).send(made.map((m) => ({ screenId: m.id, token: m.token })));
    },
  );

  app.get(
    '/api/_bench/heap',
    {
      config: bench,
      schema: {
        hide: true,
        response: {
          200: Type.Object({
            gc: Type.Boolean({ description: 'Whether a full collection ran first (the server was started with --expose-gc)' }),
            heapUsed: Type.Integer(),
            heapTotal: Type.Integer(),
            external: Type.Integer(),
            arrayBuffers: Type.Integer(),
            rss: Type.Integer(),
            sockets: Type.Integer({ description: 'Connected Socket.IO clients' }),
            storeBytes: Type.Integer({ description: 'Size of the store document on disk, which every store write rewrites' }),
            journalBytes: Type.Integer({ description: 'Size of the delivery journal on disk, which acknowledgements append to' }),
          }),
        },
      },
    },
    async () => {
      const collect = globalThis.gc;
      // Twice: the first collection's finalizers can free more on the second.
      if (collect) {
        collect();
        collect();
      }
      const m = process.memoryUsage();
      const size = (file: string) =>
        stat(path.join(app.config.dataDir, file)).then(
          (s) => s.size,
          () => 0,
        );
      const [storeBytes, journalBytes] = await Promise.all([size('zonecast.json'), size(DELIVERY_JOURNAL_FILE)]);
      return {
        gc: collect !== undefined,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        rss: m.rss,
        sockets: app.realtime.io.engine.clientsCount,
        storeBytes,
        journalBytes,
      };
    },
  );

  app.get(
    '/api/_bench/cpu',
    {
      config: bench,
      schema: {
        hide: true,
        response: { 200: Type.Object({ user: Type.Integer({ description: 'µs' }), system: Type.Integer({ description: 'µs' }) }) },
      },
    },
    // The server process's CPU time so far, which a bench reads before and after a round: its own
    // work for the round, whatever else shares the cores.
    async () => process.cpuUsage(),
  );

  app.get(
    '/api/_bench/trace',
    {
      config: bench,
      schema: {
        hide: true,
        querystring: Type.Object({ since: Type.Number({ description: 'Epoch ms: entries that started at or after it' }) }, { additionalProperties: false }),
        response: { 200: TraceSchema },
      },
    },
    async (req) => {
      const { since } = req.query;
      return { writes: trace.writes.filter((w) => w.start >= since), broadcasts: trace.broadcasts.filter((b) => b.start >= since), gcs: trace.gcs.filter((g) => g.start >= since) };
    },
  );
}
