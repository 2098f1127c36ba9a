import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CameraError, type CameraSource } from '@shelfsight/edge-agent';

export interface CameraHarness {
  /** A working source. */
  make(): Promise<CameraSource>;
  /** A source whose camera cannot deliver (unreachable, empty, stale…). */
  broken(): Promise<CameraSource>;
  /** Before the second grab: make the camera produce a newer frame if it needs a nudge (folder drops). */
  advance?(): Promise<void>;
}

/**
 * What every camera adapter must do, whatever the camera: deliver a decodable still with a
 * capture time, keep working over repeated grabs, and fail with a CameraError that says why.
 */
export const describeCameraConformance = (name: string, harness: CameraHarness) =>
  describe(`camera source conformance: ${name}`, () => {
    it('delivers a decodable image with a plausible capture time', async () => {
      const cam = await harness.make();
      try {
        const before = Date.now();
        const frame = await cam.grab();
        const meta = await sharp(frame.image).metadata();
        expect(['jpeg', 'png']).toContain(meta.format);
        expect(meta.width).toBeGreaterThan(0);
        expect(frame.capturedAt).toBeInstanceOf(Date);
        expect(frame.capturedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
        expect(frame.capturedAt.getTime()).toBeGreaterThan(before - 3600_000);
        expect(cam.description.length).toBeGreaterThan(0);
      } finally {
        await cam.close();
      }
    });

    it('keeps delivering on repeated grabs, and frame ids change when the frame does', async () => {
      const cam = await harness.make();
      try {
        const a = await cam.grab();
        await harness.advance?.();
        const b = await cam.grab();
        expect(b.image.byteLength).toBeGreaterThan(0);
        if (a.frameId !== undefined && b.frameId !== undefined) expect(b.frameId).not.toBe(a.frameId);
      } finally {
        await cam.close();
        await cam.close(); // idempotent
      }
    });

    it('fails with a CameraError that says what is wrong', async () => {
      const cam = await harness.broken();
      const err = await cam.grab().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CameraError);
      expect((err as Error).message.length).toBeGreaterThan(10);
      await cam.close();
    });
  });
