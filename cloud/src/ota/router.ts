import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { DeviceId, OtaAnnouncement } from '@shelfsight/protocol';
import { BadRequestError, parsePart } from '../api/validation.js';
import type { OtaService } from './service.js';

const AnnounceBody = z.strictObject({
  deviceIds: z.array(DeviceId).min(1).max(10_000),
  announcement: OtaAnnouncement,
});
const WithdrawBody = z.strictObject({ deviceIds: z.array(DeviceId).min(1).max(10_000) });

/** `/api/v1/ota/*` for release tooling, and `/ota/files/:sha256` for devices to download from. */
export const createOtaRouters = (
  ota: OtaService,
  maxArtifactBytes: number,
  /** Guards the release-tooling endpoints (the admin bearer token); downloads stay open, files are signed. */
  guard: RequestHandler,
): { api: Router; files: Router } => {
  const api = express.Router();
  api.use('/ota', guard);
  api.post('/ota/artifacts', express.raw({ type: () => true, limit: maxArtifactBytes }), async (req, res) => {
    if (!Buffer.isBuffer(req.body) || req.body.byteLength === 0)
      throw new BadRequestError('invalid body', [{ param: 'body', message: 'empty upload' }]);
    const stored = await ota.putArtifact(req.body);
    res.status(201).json({ ...stored, path: `/ota/files/${stored.sha256}` });
  });
  api.post('/ota/announcements', express.json({ limit: '256kb' }), async (req, res) => {
    const body = parsePart(AnnounceBody, req.body, 'body');
    await ota.announce(body.deviceIds, body.announcement);
    res.status(202).json({ announced: body.deviceIds.length });
  });
  api.post('/ota/withdrawals', express.json(), async (req, res) => {
    const body = parsePart(WithdrawBody, req.body, 'body');
    await ota.withdraw(body.deviceIds);
    res.status(202).json({ withdrawn: body.deviceIds.length });
  });
  api.get('/ota/states', (_req, res) => {
    res.json({ items: ota.listStates() });
  });

  const files = express.Router();
  files.get('/ota/files/:sha256', async (req, res) => {
    const found = await ota.openArtifact(req.params.sha256);
    if (!found) {
      res.status(404).json({ error: 'no such artifact' });
      return;
    }
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', String(found.size));
    res.setHeader('cache-control', 'public, max-age=31536000, immutable');
    found.stream.pipe(res);
  });
  return { api, files };
};
