import type { Detection, SkuCount } from '@shelfsight/protocol';
import type { Recognition } from '../recognition/types.js';

/** Normalised [x, y, w, h]. */
export type Roi = [number, number, number, number];

const inside = ([x, y, w, h]: Detection['box'], [rx, ry, rw, rh]: Roi): boolean => {
  const cx = x + w / 2;
  const cy = y + h / 2;
  return cx >= rx && cx <= rx + rw && cy >= ry && cy <= ry + rh;
};

/**
 * Keeps only what lies in the region of interest (by box centre) and recounts from the kept
 * detections, so a neighbouring fixture or a poster in view is never counted.
 */
export const applyRoi = (rec: Recognition, roi: Roi | undefined): Recognition => {
  if (!roi) return rec;
  const detections = rec.detections.filter((d) => inside(d.box, roi));
  const bySku = new Map<string, { count: number; facings: number; conf: number }>();
  for (const d of detections) {
    if (d.kind !== 'product' || !d.sku) continue;
    const s = bySku.get(d.sku) ?? { count: 0, facings: 0, conf: 0 };
    s.count++;
    if (d.facing) s.facings++;
    s.conf += d.confidence;
    bySku.set(d.sku, s);
  }
  const skus: SkuCount[] = [...bySku].map(([sku, s]) => ({
    sku,
    count: s.count,
    facings: s.facings,
    meanConfidence: Math.round((s.conf / s.count) * 1000) / 1000,
  }));
  return {
    ...rec,
    detections,
    skus,
    emptyFacings: detections.filter((d) => d.kind === 'empty').length,
    unknownProducts: detections.filter((d) => d.kind === 'unknown').length,
  };
};
