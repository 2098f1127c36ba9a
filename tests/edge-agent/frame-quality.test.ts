import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { EdgeAgent, FolderCamera, createLogger, loadRecognizer, parseAgentConfig } from '@shelfsight/edge-agent';
import type { CameraSource, Frame } from '../../edge-agent/src/camera/source.js';
import { applyRoi } from '../../edge-agent/src/observation/roi.js';
import type { Recognition } from '../../edge-agent/src/recognition/types.js';
import { repoPath } from '../helpers/processes.js';

describe('region of interest', () => {
  const rec: Recognition = {
    image: { width: 100, height: 100, qualityFlags: [] },
    skus: [],
    emptyFacings: 0,
    unknownProducts: 0,
    inferenceMs: 1,
    stagesMs: { decode: 0, detect: 0, count: 0, identify: 1 },
    detections: [
      { kind: 'product', sku: 'a', box: [0.1, 0.1, 0.1, 0.2], confidence: 0.9, row: 0, column: 0, facing: true },
      { kind: 'product', sku: 'a', box: [0.1, 0.1, 0.1, 0.15], confidence: 0.7, row: 0, column: 0, facing: false },
      { kind: 'product', sku: 'b', box: [0.7, 0.1, 0.1, 0.2], confidence: 0.9, row: 0, column: 3, facing: true },
      { kind: 'empty', box: [0.3, 0.5, 0.1, 0.2], confidence: 0.8, row: 1, column: 1, facing: true },
      { kind: 'unknown', box: [0.8, 0.5, 0.1, 0.2], confidence: 0.8, row: 1, column: 4, facing: true },
    ],
  };

  it('recounts SKUs, facings, empties and unknowns from the detections inside it', () => {
    const r = applyRoi(rec, [0, 0, 0.5, 1]);
    expect(r.skus).toEqual([{ sku: 'a', count: 2, facings: 1, meanConfidence: 0.8 }]);
    expect(r.emptyFacings).toBe(1);
    expect(r.unknownProducts).toBe(0);
    expect(r.detections).toHaveLength(3);
    expect(applyRoi(rec, undefined)).toBe(rec);
  });
});

describe('bad frames', () => {
  it('retries a dark frame and publishes nothing if it stays dark', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dark-'));
    await sharp({ create: { width: 1280, height: 960, channels: 3, background: { r: 4, g: 4, b: 6 } } })
      .jpeg()
      .toFile(path.join(dir, 'frame.jpg'));
    const config = parseAgentConfig({
      deviceId: 'cam-dark',
      outletId: 'o',
      fixtureId: 'f',
      mqtt: { url: 'mqtt://127.0.0.1:1', reconnectPeriodMs: 60_000 },
      camera: { kind: 'folder', dir },
      capture: { intervalS: 0, retries: 2, retryDelayMs: 10 },
      modelDir: repoPath('models'),
      dataDir: await mkdtemp(path.join(tmpdir(), 'dark-agent-')),
      logLevel: 'silent',
    });
    const agent = new EdgeAgent({
      config,
      camera: new FolderCamera(dir, 600),
      recognizer: await loadRecognizer({ modelDir: config.modelDir }),
      log: createLogger('silent'),
    });
    await agent.start();
    try {
      await expect(agent.capture('command')).rejects.toThrow(/bad frame \(too_dark\) after 3 tries/);
      expect(agent.outboxDepth).toBe(0);
      const diag = (await agent.diagnostics()) as { captures: { failed: number } };
      expect(diag.captures.failed).toBeGreaterThanOrEqual(1);
    } finally {
      await agent.stop();
    }
  });

  it('retries a frame that does not decode (an upload cut short), then uses the next good one', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'corrupt-agent-'));
    const good = await readFile(repoPath('tests/fixtures/recognition/images/000001.jpg'));
    // The camera is outside the system: this one hands out half a JPEG first, as a camera mid-upload would.
    const frames = [good.subarray(0, good.length >> 1), good];
    let grabs = 0;
    const camera: CameraSource = {
      description: 'scripted camera',
      close: async () => {},
      grab: async (): Promise<Frame> => ({
        image: frames[Math.min(grabs++, 1)]!,
        capturedAt: new Date(),
        frameId: `f${grabs}`,
      }),
    };
    const config = parseAgentConfig({
      deviceId: 'cam-corrupt',
      outletId: 'o',
      fixtureId: 'f',
      mqtt: { url: 'mqtt://127.0.0.1:1', reconnectPeriodMs: 60_000 },
      camera: { kind: 'folder', dir: dataDir },
      capture: { intervalS: 0, retries: 2, retryDelayMs: 10 },
      modelDir: repoPath('models'),
      dataDir,
      logLevel: 'silent',
    });
    let agent = new EdgeAgent({
      config,
      camera,
      recognizer: await loadRecognizer({ modelDir: config.modelDir }),
      log: createLogger('silent'),
    });
    await agent.start();
    try {
      // The boot capture meets the broken frame, tries again and gets the good one; this one, queued behind it, too.
      const { observation } = await agent.capture('command');
      expect(grabs).toBe(3);
      expect(observation.skus.length).toBeGreaterThan(0);
      const diag = (await agent.diagnostics()) as { captures: { ok: number; failed: number; badFrames: number } };
      expect(diag.captures).toMatchObject({ ok: 2, failed: 0, badFrames: 1 });
    } finally {
      await agent.stop();
    }
    // A camera that only ever sends broken frames: nothing is published, and the reason says so.
    const broken: CameraSource = {
      description: 'broken camera',
      close: async () => {},
      grab: async (): Promise<Frame> => ({
        image: Buffer.from('not a jpeg'),
        capturedAt: new Date(),
        frameId: 'x.jpg',
      }),
    };
    // (stop() released the first agent's recognizer.)
    agent = new EdgeAgent({
      config,
      camera: broken,
      recognizer: await loadRecognizer({ modelDir: config.modelDir }),
      log: createLogger('silent'),
    });
    await agent.start();
    try {
      await expect(agent.capture('command')).rejects.toThrow(
        /^corrupt frame x\.jpg \(cannot decode image: Input buffer contains unsupported image format\) after 3 tries$/,
      );
      expect(agent.outboxDepth).toBe(2); // the first agent's two captures, still queued (no broker here)
    } finally {
      await agent.stop();
    }
  });
});
