import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runEnrollCli } from '../../../edge-agent/src/enroll-cli.js';
import type { GalleryFile } from '../../../edge-agent/src/recognition/index.js';

const MODELS = fileURLToPath(new URL('../../../models', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/recognition', import.meta.url));

describe('enroll CLI: pack size', () => {
  let dir: string;
  let args: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'enroll-cli-'));
    const coco = JSON.parse(await readFile(`${FIXTURES}/annotations.json`, 'utf8')) as {
      images: { id: number; file_name: string; width: number; height: number }[];
      annotations: { image_id: number; bbox: number[]; occlusion: number; kind?: string }[];
    };
    const a = coco.annotations.find((x) => x.occlusion === 0 && x.kind === 'product')!;
    const im = coco.images.find((i) => i.id === a.image_id)!;
    const [x, y, w, h] = a.bbox as [number, number, number, number];
    const box = [x / im.width, y / im.height, w / im.width, h / im.height].join(',');
    const image = join(FIXTURES, 'images', im.file_name.split('/').pop()!);
    args = ['--model-dir', MODELS, '--sku', 'new-energy-500c', '--image', image, '--box', box];
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const quiet = () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    vi.spyOn(console, 'error').mockImplementation((s: string) => void out.push(s));
    return out;
  };

  it('stores --size-mm with the new entry and keeps it on re-enrolment without the flag', async () => {
    const out = quiet();
    const first = join(dir, 'g1.json');
    expect(await runEnrollCli([...args, '--size-mm', '66x168', '--out', first])).toBe(0);
    const g1 = JSON.parse(await readFile(first, 'utf8')) as GalleryFile;
    expect(g1.entries.find((e) => e.sku === 'new-energy-500c')!.sizeMm).toEqual({ width: 66, height: 168 });
    expect(JSON.parse(out.at(-1)!)).toMatchObject({ sizeMm: { width: 66, height: 168 } });
    const second = join(dir, 'g2.json');
    expect(await runEnrollCli([...args, '--gallery', first, '--out', second])).toBe(0);
    const g2 = JSON.parse(await readFile(second, 'utf8')) as GalleryFile;
    expect(g2.entries.find((e) => e.sku === 'new-energy-500c')!.sizeMm).toEqual({ width: 66, height: 168 });
    vi.restoreAllMocks();
  });

  it('refuses a size that is not WIDTHxHEIGHT millimetres, naming the flag', async () => {
    for (const bad of ['66', '66x0', 'x168', '66 x 168', '-5x10']) {
      const out = quiet();
      expect(await runEnrollCli([...args, `--size-mm=${bad}`, '--out', join(dir, 'bad.json')])).toBe(2);
      expect(out.join('\n')).toMatch(/--size-mm ".*": expected WIDTHxHEIGHT in millimetres/);
      vi.restoreAllMocks();
    }
  });
});
