import express, { type Router } from 'express';
import { z } from 'zod';
import { DeviceId, FixtureId, OutletId } from '@shelfsight/protocol';
import { parsePart } from '../api/validation.js';
import { requireAdmin } from './admin.js';
import { ProvisionError, type DeviceRegistry } from './registry.js';

export interface IdentityRouterDeps {
  registry: DeviceRegistry;
  adminToken: string;
  /** The broker URL handed to provisioned devices. */
  mqttUrl: string;
  /** Drops the device's live MQTT connection; true if there was one. */
  disconnect: (deviceId: string) => boolean;
}

const ClaimBody = z.strictObject({
  deviceId: DeviceId.optional(),
  outletId: OutletId.optional(),
  fixtureId: FixtureId.optional(),
  note: z.string().max(200).optional(),
  /** Token lifetime in seconds: 1 minute to 30 days, default 24 h. */
  ttlS: z
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .optional(),
});

const ProvisionBody = z.strictObject({
  claimToken: z.string().min(1).max(200),
  deviceId: DeviceId.optional(),
});

/**
 * `/api/v1` identity endpoints. Claims, the registry and revocation need the admin bearer token;
 * `/provision` is authorised by the claim token itself. Secrets appear only in the one response
 * that issues them (with `Cache-Control: no-store`) and are never logged.
 */
export const createIdentityRouter = (deps: IdentityRouterDeps): Router => {
  const r = express.Router();
  const admin = requireAdmin(deps.adminToken);
  const json = express.json({ limit: '16kb' });

  r.post('/claims', admin, json, async (req, res) => {
    const body = parsePart(ClaimBody, req.body ?? {}, 'body');
    const claim = await deps.registry.createClaim(body);
    res.status(201).set('Cache-Control', 'no-store').json(claim);
  });

  r.post('/provision', json, async (req, res) => {
    const body = parsePart(ProvisionBody, req.body ?? {}, 'body');
    try {
      const creds = await deps.registry.provision(body.claimToken, body.deviceId);
      // A re-provisioned device's old session must not outlive its old password.
      deps.disconnect(creds.deviceId);
      res
        .status(201)
        .set('Cache-Control', 'no-store')
        .json({ ...creds, mqttUrl: deps.mqttUrl });
    } catch (err) {
      if (!(err instanceof ProvisionError)) throw err;
      res.status(err.status).json({ error: err.message, code: err.code, details: [] });
    }
  });

  r.get('/devices/registry', admin, (_req, res) => {
    res.json({ items: deps.registry.listDevices() });
  });

  r.delete('/devices/:deviceId/credentials', admin, async (req, res) => {
    const { deviceId } = parsePart(z.object({ deviceId: DeviceId }), req.params, 'path');
    if (!(await deps.registry.revoke(deviceId))) {
      res.status(404).json({ error: 'no active credentials for this device', details: [] });
      return;
    }
    res.json({ deviceId, revoked: true, disconnected: deps.disconnect(deviceId) });
  });

  return r;
};
