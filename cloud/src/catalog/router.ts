import express, { type Router } from 'express';
import { z } from 'zod';
import { SkuId } from '@shelfsight/protocol';
import { MAX_ENROLL_SHOTS } from '@shelfsight/edge-agent/recognition';
import { BadRequestError, parsePart } from '../api/validation.js';
import { SkuMaster } from '../masterdata/index.js';
import { CatalogError, type CatalogService, type ReferenceImage } from './service.js';

/** Upload cap per request: 12 phone photos of a few MB each, base64-inflated. */
export const CATALOG_MAX_BODY = '64mb';
const MAX_IMAGE_BYTES = 8 * 1024 * 1024;

const fraction = z.number().min(0).max(1);
const Upload = z.strictObject({
  images: z
    .array(
      z.strictObject({
        /** Base64 of the encoded image; a `data:image/…;base64,` prefix is accepted. */
        data: z
          .string()
          .min(1)
          .transform((s) => s.replace(/^data:[^,]{0,100},/, ''))
          .pipe(z.base64({ message: 'must be base64 (optionally a data: URL)' })),
        box: z.tuple([fraction, fraction, fraction, fraction]).optional(),
        name: z.string().max(200).optional(),
      }),
    )
    .min(1, 'at least one image')
    .max(MAX_ENROLL_SHOTS, `at most ${MAX_ENROLL_SHOTS} images`),
  /** Embed the images into a new gallery version (default), or only keep them as references. */
  enroll: z.boolean().default(true),
  /** Average with the SKU's earlier reference images instead of replacing its prototype. */
  withExisting: z.boolean().default(false),
  /** Master data for a SKU the catalog does not know yet. */
  master: SkuMaster.omit({ sku: true }).optional(),
});
const SkuPath = z.strictObject({ sku: SkuId });
const RefPath = z.strictObject({ sku: SkuId, id: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 hex digits') });
const RefQuery = z.strictObject({ size: z.enum(['thumb', 'original']).default('thumb') });
const VersionPath = z.strictObject({ version: z.string().regex(/^[0-9A-Za-z.+-]{1,64}$/, 'must be a version') });

const refUrl = (sku: string, id: string, size: 'thumb' | 'original') =>
  `/api/v1/catalog/skus/${encodeURIComponent(sku)}/references/${id}?size=${size}`;
/** A stored reference as the API shows it: with the URLs of its thumbnail and original. */
const withUrls = (sku: string) => (x: ReferenceImage) => ({
  ...x,
  thumbUrl: refUrl(sku, x.id, 'thumb'),
  url: refUrl(sku, x.id, 'original'),
});

/**
 * `/api/v1/catalog`: SKUs with their reference images and gallery state, versioned gallery files for
 * release tooling, and enrolment of a SKU from uploaded images (admins only).
 */
export const createCatalogRouter = (catalog: CatalogService): Router => {
  const r = express.Router();

  r.get('/catalog', async (req, res) => {
    parsePart(z.strictObject({}), req.query, 'query');
    const g = catalog.gallery();
    const inGallery = new Map((g?.entries ?? []).map((e) => [e.sku, e]));
    const refs = await catalog.skusWithReferences();
    const skus = catalog.masterSkus();
    const known = new Set(skus.map((s) => s.sku));
    const rows = [
      ...skus.map((s) => ({ sku: s.sku, brand: s.brand, own: s.own, name: s.name })),
      ...[...inGallery.keys()].filter((s) => !known.has(s)).map((s) => ({ sku: s, brand: null, own: null, name: '' })),
    ];
    res.json({
      gallery: g ? { name: g.name, version: g.version, embedder: g.embedder ?? null, skus: g.entries.length } : null,
      enrolment: catalog.enrolment(),
      items: rows
        .sort((a, b) => a.sku.localeCompare(b.sku))
        .map((row) => {
          const e = inGallery.get(row.sku);
          return {
            ...row,
            inGallery: !!e,
            shots: e?.shots ?? null,
            source: e?.source ?? null,
            enrolledAt: e?.enrolledAt ?? null,
            references: (refs.get(row.sku) ?? []).map(withUrls(row.sku)),
          };
        }),
    });
  });

  r.get('/catalog/gallery', (_req, res) => {
    const g = catalog.gallery();
    if (!g) return res.status(404).json({ error: 'not found', details: [{ param: 'path', message: 'no gallery' }] });
    res.setHeader('content-disposition', `attachment; filename="gallery-${g.version}.json"`);
    res.json(g);
  });

  r.get('/catalog/gallery/changes', (_req, res) => {
    res.json({ items: catalog.changes() });
  });

  r.get('/catalog/galleries/:version', async (req, res) => {
    const { version } = parsePart(VersionPath, req.params, 'path');
    const g = await catalog.galleryVersion(version);
    if (!g)
      return res.status(404).json({ error: 'not found', details: [{ param: 'version', message: `no ${version}` }] });
    res.json(g);
  });

  r.get('/catalog/skus/:sku/references', async (req, res) => {
    const { sku } = parsePart(SkuPath, req.params, 'path');
    const items = await catalog.references(sku);
    res.json({
      items: items.map(withUrls(sku)),
    });
  });

  r.get('/catalog/skus/:sku/references/:id', (req, res) => {
    const { sku, id } = parsePart(RefPath, req.params, 'path');
    const { size } = parsePart(RefQuery, req.query, 'query');
    const file = catalog.referenceFile(sku, id, size === 'thumb');
    if (!file)
      return res.status(404).json({ error: 'not found', details: [{ param: 'id', message: `no image ${id}` }] });
    res.setHeader('cache-control', 'private, max-age=86400, immutable');
    res.setHeader('x-content-type-options', 'nosniff');
    if (size === 'thumb') res.type('image/jpeg');
    else res.type('application/octet-stream');
    res.sendFile(file);
  });

  r.post('/catalog/skus/:sku/references', express.json({ limit: CATALOG_MAX_BODY }), async (req, res) => {
    const p = res.locals.principal as { role?: string; username?: string } | undefined;
    // The gallery ships to every device: enrolment needs an admin even where log-in is optional.
    if (p?.role !== 'admin')
      return res.status(403).json({
        error: 'forbidden',
        details: [{ param: 'authorization', message: 'enrolment is for admins (sign in or Bearer <admin token>)' }],
      });
    const { sku } = parsePart(SkuPath, req.params, 'path');
    const body = parsePart(Upload, req.body ?? {}, 'body');
    const images = body.images.map((img, i) => {
      const data = Buffer.from(img.data, 'base64');
      if (data.byteLength > MAX_IMAGE_BYTES)
        throw new BadRequestError('invalid body', [
          { param: `images.${i}`, message: `${data.byteLength} bytes; at most ${MAX_IMAGE_BYTES} per image` },
        ]);
      return { data, box: img.box, name: img.name };
    });
    try {
      const out = await catalog.addReferences(sku, images, {
        enroll: body.enroll,
        withExisting: body.withExisting,
        master: body.master,
        by: p.username ?? 'admin',
      });
      res.status(201).json({
        ...out,
        references: out.references.map(withUrls(sku)),
      });
    } catch (err) {
      if (!(err instanceof CatalogError)) throw err;
      res.status(err.unavailable ? 503 : 400).json({
        error: err.unavailable ? 'unavailable' : 'invalid body',
        details: [{ param: err.param, message: err.message }],
      });
    }
  });
  return r;
};
