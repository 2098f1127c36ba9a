import { mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileOutbox } from '@shelfsight/edge-agent';

const tmp = () => mkdtemp(path.join(tmpdir(), 'outbox-'));

describe('FileOutbox', () => {
  it('keeps entries in order across reopen, and forgets removed ones', async () => {
    const dir = await tmp();
    const a = await FileOutbox.open(dir, { maxMessages: 100 });
    for (let i = 0; i < 5; i++) await a.append('t', `m${i}`);
    await a.remove((await a.peek(1))[0]!.id);
    const b = await FileOutbox.open(dir, { maxMessages: 100 });
    expect((await b.peek(10)).map((e) => e.payload)).toEqual(['m1', 'm2', 'm3', 'm4']);
    const e = await b.append('t', 'm5');
    expect(e.id).toBeGreaterThan((await b.peek(10))[3]!.id);
  });

  it('drops the oldest when full and counts the drops', async () => {
    const box = await FileOutbox.open(await tmp(), { maxMessages: 3 });
    for (let i = 0; i < 5; i++) await box.append('t', `m${i}`);
    expect((await box.peek(10)).map((e) => e.payload)).toEqual(['m2', 'm3', 'm4']);
    expect(box.stats()).toMatchObject({ depth: 3, dropped: 2 });
  });

  it('discards a half-written temp file left by a crash', async () => {
    const dir = await tmp();
    const box = await FileOutbox.open(dir, { maxMessages: 10 });
    await box.append('t', 'whole');
    await writeFile(path.join(dir, '0000000000000002.json.tmp'), '{"topic":"t","pay');
    const reopened = await FileOutbox.open(dir, { maxMessages: 10 });
    expect((await reopened.peek(10)).map((e) => e.payload)).toEqual(['whole']);
    expect(await readdir(dir)).toEqual(['0000000000000001.json']);
  });

  it('drops the oldest past the byte bound but never the entry just written', async () => {
    const box = await FileOutbox.open(await tmp(), { maxMessages: 100, maxBytes: 200 });
    for (let i = 0; i < 4; i++) await box.append('t', 'x'.repeat(60) + i);
    expect((await box.peek(10)).map((e) => e.payload.at(-1))).toEqual(['2', '3']);
    await box.append('t', 'y'.repeat(500));
    expect((await box.peek(10)).map((e) => e.payload[0])).toEqual(['y']);
    expect(box.stats().dropped).toBe(4);
  });

  it('drops entries older than the age bound, also on reopen', async () => {
    const dir = await tmp();
    const box = await FileOutbox.open(dir, { maxMessages: 100 });
    await box.append('t', 'old');
    const old = new Date(Date.now() - 3600_000);
    await utimes(path.join(dir, '0000000000000001.json'), old, old);
    const reopened = await FileOutbox.open(dir, { maxMessages: 100, maxAgeS: 600 });
    expect(reopened.depth).toBe(0);
    expect(reopened.stats()).toMatchObject({ dropped: 1, oldestAgeS: 0 });
  });
});
