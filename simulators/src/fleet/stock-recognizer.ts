import type { Recognition, Recognizer } from '@shelfsight/edge-agent';
import { loadCatalog } from '../catalog/catalog.js';
import type { CoolerSim } from '../cameras/cooler.js';

const CATALOG_SKUS = new Set(loadCatalog().map((e) => e.sku));

/**
 * The fleet's light mode: reads counts straight from the simulated cooler instead of rendering
 * and recognising a frame, so one process can drive thousands of devices. For load and fault
 * tests of everything after recognition only — never for measuring recognition.
 */
export class StockRecognizer implements Recognizer {
  readonly model = { name: 'fleet-light', version: 'stock-0' };
  readonly gallery = { name: 'fleet-light', version: 'stock-0' };

  constructor(private readonly sim: CoolerSim) {}

  async recognize(): Promise<Recognition> {
    const t0 = performance.now();
    const counts = new Map<string, { count: number; facings: number }>();
    let empty = 0;
    let unknown = 0;
    for (const row of this.sim.stock)
      for (const column of row) {
        const front = column.findIndex((s) => s !== null);
        if (front < 0) empty++;
        column.forEach((sku, depth) => {
          if (sku === null) return;
          if (!CATALOG_SKUS.has(sku)) {
            unknown++;
            return;
          }
          const c = counts.get(sku) ?? { count: 0, facings: 0 };
          c.count++;
          if (depth === front) c.facings++;
          counts.set(sku, c);
        });
      }
    const ms = performance.now() - t0;
    return {
      image: { width: 1280, height: 960, qualityFlags: [] },
      skus: [...counts].map(([sku, c]) => ({ sku, count: c.count, facings: c.facings })),
      emptyFacings: empty,
      unknownProducts: unknown,
      detections: [],
      inferenceMs: ms,
      // No image work: reading the stock is all of it.
      stagesMs: { decode: 0, detect: 0, count: 0, identify: ms },
    };
  }

  async close(): Promise<void> {}
}

/** 1×1 grey JPEG: light-mode devices have no picture worth rendering. */
const PLACEHOLDER_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==',
  'base64',
);

/** The light-mode camera: advances the simulated cooler's clock and hands over a placeholder. */
export class StockCamera {
  readonly description: string;
  constructor(private readonly cam: { tick(): void; description: string }) {
    this.description = `${cam.description} (light mode: no rendering)`;
  }
  async grab(): Promise<{ image: Buffer; capturedAt: Date }> {
    this.cam.tick();
    return { image: PLACEHOLDER_JPEG, capturedAt: new Date() };
  }
  async close(): Promise<void> {}
}
