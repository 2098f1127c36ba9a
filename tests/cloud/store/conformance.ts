import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CountRecord, TimeSeriesStore } from '@shelfsight/cloud';
import { makeObservation } from '../helpers/observations.js';

/**
 * The behaviour every TimeSeriesStore adapter must show. Each adapter's test file calls this with
 * a factory for an empty store; the suite never depends on adapter internals.
 */
export const describeStoreConformance = (name: string, makeStore: () => Promise<TimeSeriesStore>): void => {
  describe(`TimeSeriesStore conformance: ${name}`, () => {
    let store: TimeSeriesStore;
    const received = new Date('2024-05-01T10:00:05.000Z');

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores an observation and returns it from queries', async () => {
      const obs = makeObservation({ capturedAt: '2024-05-01T18:00:00.000+08:00' });
      expect(await store.writeObservation(obs, received)).toEqual({ inserted: true });
      const page = await store.queryObservations({});
      expect(page.nextCursor).toBeNull();
      expect(page.items).toHaveLength(1);
      const item = page.items[0]!;
      expect(item).toMatchObject({
        messageId: obs.messageId,
        deviceId: 'dev-1',
        outletId: 'outlet-1',
        fixtureId: 'cooler-1',
        capturedAt: '2024-05-01T10:00:00.000Z',
        receivedAt: '2024-05-01T10:00:05.000Z',
        emptyFacings: 1,
        unknownProducts: 0,
        model: { name: 'shelf-yolo', version: '1.0.0' },
        seq: 1,
        inferenceMs: 42,
      });
      expect(item.skus).toEqual([
        { sku: 'cola-330', count: 6, facings: 3 },
        { sku: 'lemon-500', count: 2, facings: 2 },
      ]);
    });

    it('is idempotent by messageId', async () => {
      const obs = makeObservation();
      expect((await store.writeObservation(obs, received)).inserted).toBe(true);
      expect((await store.writeObservation({ ...obs, emptyFacings: 9 }, received)).inserted).toBe(false);
      const page = await store.queryObservations({});
      expect(page.items).toHaveLength(1);
      expect(page.items[0]!.emptyFacings).toBe(1);
      const history = await store.skuHistory({ fixtureId: 'cooler-1' });
      expect(history.find((s) => s.sku === 'cola-330')!.points).toHaveLength(1);
    });

    it('stores a burst of concurrent writes, counting a redelivery inside the burst once', async () => {
      const burst = Array.from({ length: 40 }, (_, i) =>
        makeObservation({ capturedAt: new Date(Date.UTC(2026, 10, 23, 9, 0, i)).toISOString() }),
      );
      const redelivered = burst[7]!;
      const results = await Promise.all([
        ...burst.map((o) => store.writeObservation(o, received)),
        store.writeObservation(redelivered, received),
      ]);
      expect(results.filter((r) => r.inserted)).toHaveLength(40);
      expect(results.filter((r) => !r.inserted)).toHaveLength(1);
      const page = await store.queryObservations({ limit: 1000 });
      expect(page.items).toHaveLength(40);
      expect(new Set(page.items.map((i) => i.messageId)).size).toBe(40);
    });

    it('keeps quality flags, detections and observations without SKUs', async () => {
      const obs = makeObservation({
        skus: [],
        image: { width: 10, height: 10, qualityFlags: ['too_dark', 'door_open'] },
        detections: [{ kind: 'empty', box: [0, 0, 0.5, 0.5], confidence: 0.9, row: 0, column: 1, facing: true }],
      });
      await store.writeObservation(obs, received);
      const [item] = (await store.queryObservations({})).items;
      expect(item!.skus).toEqual([]);
      expect(item!.qualityFlags).toEqual(['too_dark', 'door_open']);
      expect(item!.detections).toEqual(obs.detections);
      expect(item!.image.brightness).toBeNull();
    });

    it('filters by device, outlet, fixture and time range', async () => {
      await store.writeObservation(makeObservation({ deviceId: 'a', outletId: 'o1', fixtureId: 'f1' }), received);
      await store.writeObservation(makeObservation({ deviceId: 'b', outletId: 'o2', fixtureId: 'f2' }), received);
      await store.writeObservation(
        makeObservation({ deviceId: 'b', outletId: 'o2', fixtureId: 'f3', capturedAt: '2024-05-02T00:00:00Z' }),
        received,
      );
      const ids = async (q: Parameters<TimeSeriesStore['queryObservations']>[0]) =>
        (await store.queryObservations(q)).items.map((i) => i.fixtureId).sort();
      expect(await ids({ deviceId: 'b' })).toEqual(['f2', 'f3']);
      expect(await ids({ outletId: 'o1' })).toEqual(['f1']);
      expect(await ids({ fixtureId: 'f3' })).toEqual(['f3']);
      expect(await ids({ from: new Date('2024-05-01T12:00:00Z') })).toEqual(['f3']);
      expect(await ids({ to: new Date('2024-05-02T00:00:00Z') })).toEqual(['f1', 'f2']);
      expect(await ids({ deviceId: 'nobody' })).toEqual([]);
    });

    it('pages newest first with a cursor, without gaps or repeats', async () => {
      const written: string[] = [];
      for (let i = 0; i < 7; i++) {
        // Two observations share each timestamp to exercise the tie-breaker.
        const t = new Date(Date.UTC(2024, 4, 1, 10, Math.floor(i / 2))).toISOString();
        const obs = makeObservation({ capturedAt: t, seq: i });
        written.push(obs.messageId);
        await store.writeObservation(obs, received);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.queryObservations({ limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((i) => i.messageId));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(7);
      expect([...seen].sort()).toEqual([...written].sort());
      const all = (await store.queryObservations({ limit: 100 })).items.map((i) => i.capturedAt);
      expect(all).toEqual([...all].sort().reverse());
    });

    it('scans counts oldest first in pages, with SKUs sorted and a time range', async () => {
      const written: { id: string; t: string }[] = [];
      for (let i = 0; i < 9; i++) {
        // Pairs share a millisecond (tie broken by messageId); fixtures and outlets alternate.
        const t = new Date(Date.UTC(2024, 4, 1, 10, Math.floor(i / 2))).toISOString();
        const obs = makeObservation({
          capturedAt: t,
          seq: i,
          fixtureId: `cooler-${i % 2}`,
          outletId: `outlet-${i % 2}`,
          skus:
            i === 4
              ? []
              : [
                  { sku: 'lemon-500', count: i + 1, facings: 1 },
                  { sku: 'cola-330', count: 10 - i, facings: 2 },
                ],
          emptyFacings: i,
          unknownProducts: i % 3,
        });
        written.push({ id: obs.messageId, t });
        await store.writeObservation(obs, received);
      }
      const expected = [...written].sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.id < b.id ? -1 : 1));
      const seen: CountRecord[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.scanCounts({ limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items);
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 20);
      expect(pages).toBe(5);
      expect(seen.map((r) => r.messageId)).toEqual(expected.map((r) => r.id));
      const third = seen.find((r) => r.emptyFacings === 3)!;
      expect(third).toEqual({
        messageId: third.messageId,
        outletId: 'outlet-1',
        fixtureId: 'cooler-1',
        capturedAt: '2024-05-01T10:01:00.000Z',
        skus: [
          { sku: 'cola-330', count: 7, facings: 2 },
          { sku: 'lemon-500', count: 4, facings: 1 },
        ],
        emptyFacings: 3,
        unknownProducts: 0,
      });
      expect(seen.find((r) => r.emptyFacings === 4)!.skus).toEqual([]);
      const ranged = await store.scanCounts({
        from: new Date('2024-05-01T10:01:00Z'),
        to: new Date('2024-05-01T10:03:00Z'),
      });
      expect(ranged.nextCursor).toBeNull();
      expect(ranged.items.map((r) => r.emptyFacings).sort()).toEqual([2, 3, 4, 5]);
      await expect(store.scanCounts({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
      const late = makeObservation({ capturedAt: '2024-04-30T10:00:00Z' });
      await store.writeObservation(late, new Date('2024-05-02T00:00:00Z'));
      const caught = await store.scanCounts({ receivedFrom: new Date('2024-05-01T12:00:00Z') });
      expect(caught.items.map((r) => r.messageId)).toEqual([late.messageId]);
    });

    it('rejects a cursor it did not issue', async () => {
      await expect(store.queryObservations({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
    });

    it('returns the latest observation per fixture by capture time', async () => {
      const late = makeObservation({ capturedAt: '2024-05-01T12:00:00Z', emptyFacings: 4 });
      const early = makeObservation({ capturedAt: '2024-05-01T09:00:00Z' });
      const other = makeObservation({ fixtureId: 'cooler-2', outletId: 'outlet-0', skus: [] });
      // The early one arrives last (offline backfill) and must not win.
      await store.writeObservation(late, received);
      await store.writeObservation(other, received);
      await store.writeObservation(early, received);
      const latest = await store.latestPerFixture();
      expect(latest.map((f) => f.fixtureId)).toEqual(['cooler-2', 'cooler-1']);
      expect(latest[1]).toMatchObject({
        messageId: late.messageId,
        emptyFacings: 4,
        skus: [
          { sku: 'cola-330', count: 6, facings: 3 },
          { sku: 'lemon-500', count: 2, facings: 2 },
        ],
        qualityFlags: [],
      });
      expect(latest[0]!.skus).toEqual([]);
    });

    it('gives per-SKU history with zeros where a SKU was absent', async () => {
      await store.writeObservation(makeObservation({ capturedAt: '2024-05-01T10:00:00Z' }), received);
      await store.writeObservation(
        makeObservation({ capturedAt: '2024-05-01T11:00:00Z', skus: [{ sku: 'lemon-500', count: 1, facings: 1 }] }),
        received,
      );
      await store.writeObservation(makeObservation({ fixtureId: 'elsewhere' }), received);
      const history = await store.skuHistory({ fixtureId: 'cooler-1' });
      expect(history).toEqual([
        {
          sku: 'cola-330',
          points: [
            { capturedAt: '2024-05-01T10:00:00.000Z', count: 6, facings: 3 },
            { capturedAt: '2024-05-01T11:00:00.000Z', count: 0, facings: 0 },
          ],
        },
        {
          sku: 'lemon-500',
          points: [
            { capturedAt: '2024-05-01T10:00:00.000Z', count: 2, facings: 2 },
            { capturedAt: '2024-05-01T11:00:00.000Z', count: 1, facings: 1 },
          ],
        },
      ]);
      const one = await store.skuHistory({
        fixtureId: 'cooler-1',
        sku: 'cola-330',
        from: new Date('2024-05-01T10:30:00Z'),
      });
      expect(one).toEqual([
        { sku: 'cola-330', points: [{ capturedAt: '2024-05-01T11:00:00.000Z', count: 0, facings: 0 }] },
      ]);
      expect(await store.skuHistory({ fixtureId: 'unknown' })).toEqual([]);
    });

    it('treats user input as data, not SQL', async () => {
      await store.writeObservation(makeObservation(), received);
      const page = await store.queryObservations({ deviceId: "x' OR '1'='1" });
      expect(page.items).toEqual([]);
    });

    it('upserts and lists device status', async () => {
      await store.upsertDeviceStatus(
        { deviceId: 'dev-2', state: 'online', at: '2024-05-01T10:00:00Z', agentVersion: '0.1.0' },
        received,
      );
      await store.upsertDeviceStatus({ deviceId: 'dev-1', state: 'online' }, received);
      const rec = await store.upsertDeviceStatus(
        { deviceId: 'dev-2', state: 'offline' },
        new Date('2024-05-01T11:00:00Z'),
      );
      expect(rec).toMatchObject({ deviceId: 'dev-2', state: 'offline', at: null });
      const list = await store.listDeviceStatus();
      expect(list.map((d) => [d.deviceId, d.state])).toEqual([
        ['dev-1', 'online'],
        ['dev-2', 'offline'],
      ]);
      expect(list[1]).toEqual(rec);
    });

    it('serialises concurrent writes of the same id to one insert', async () => {
      const obs = makeObservation();
      const results = await Promise.all([1, 2, 3, 4].map(() => store.writeObservation(obs, received)));
      expect(results.filter((r) => r.inserted)).toHaveLength(1);
    });
  });
};
