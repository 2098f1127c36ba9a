import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeAgent, HttpSnapshotCamera, createLogger, loadRecognizer, parseAgentConfig } from '@shelfsight/edge-agent';
import { DoorEvent, Observation, topics } from '@shelfsight/protocol';
import { startVirtualCameras } from '@shelfsight/simulators';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { repoPath, waitUntil } from '../helpers/processes.js';

describe('capture after the door closes', () => {
  let broker: Mosquitto;
  let cameras: Awaited<ReturnType<typeof startVirtualCameras>>;
  let watcher: mqtt.MqttClient;
  const observations: Observation[] = [];
  const doors: DoorEvent[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    // A busy cooler: at 60× speed, 600 sales an hour is a door opening every few hundred ms.
    cameras = await startVirtualCameras({ port: 0, host: '127.0.0.1', cameras: 1, seed: 12, salesPerHour: 600 });
    watcher = await mqtt.connectAsync(broker.url, { clientId: `w-${randomUUID()}` });
    watcher.on('message', (t, p) => {
      if (t.endsWith('/observations')) observations.push(Observation.parse(JSON.parse(p.toString())));
      if (t.endsWith('/events')) doors.push(DoorEvent.parse(JSON.parse(p.toString())));
    });
    await watcher.subscribeAsync('shelfsight/v1/devices/+/#', { qos: 1 });
  });
  afterAll(async () => {
    await watcher?.endAsync();
    await cameras?.close();
    await broker?.stop();
  });

  it('captures shortly after a close, rate-limited, and reports door events with durations', async () => {
    const cam = cameras.cameras[0]!;
    const config = parseAgentConfig({
      deviceId: 'cam-door',
      outletId: cam.outletId,
      fixtureId: cam.fixtureId,
      mqtt: { url: broker.url },
      camera: { kind: 'http', url: cam.snapshotUrl },
      door: { kind: 'sse', url: cam.doorEventsUrl },
      capture: { intervalS: 0, afterDoorCloseS: 0.2, doorMinIntervalS: 2 },
      modelDir: repoPath('models'),
      dataDir: await mkdtemp(path.join(tmpdir(), 'door-')),
      logLevel: 'warn',
    });
    const agent = new EdgeAgent({
      config,
      camera: new HttpSnapshotCamera(cam.snapshotUrl),
      recognizer: await loadRecognizer({ modelDir: config.modelDir }),
      log: createLogger('warn'),
    });
    await agent.start();
    try {
      const t0 = Date.now();
      await waitUntil(() => observations.filter((o) => o.trigger === 'door').length >= 2, 20_000, 'two door captures');
      const elapsedS = (Date.now() - t0) / 1000;
      const byDoor = observations.filter((o) => o.trigger === 'door');
      // Rate limit: never more than one door capture per doorMinIntervalS.
      const times = byDoor.map((o) => Date.parse(o.capturedAt)).sort((a, b) => a - b);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1900);
      expect(byDoor.length).toBeLessThanOrEqual(Math.ceil(elapsedS / 2) + 1);
      const closed = doors.filter((d) => d.state === 'closed');
      expect(closed.length).toBeGreaterThan(byDoor.length);
      expect(closed.every((d) => d.deviceId === 'cam-door' && (d.durationS ?? 0) > 0)).toBe(true);
      expect(doors.some((d) => d.state === 'open')).toBe(true);
      expect(topics.events('cam-door')).toBe('shelfsight/v1/devices/cam-door/events');
    } finally {
      await agent.stop();
    }
  });
});
