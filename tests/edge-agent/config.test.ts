import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadAgentConfig, viewOf } from '@shelfsight/edge-agent';

const base = {
  deviceId: 'cam-01',
  outletId: 'outlet-01',
  fixtureId: 'cooler-01',
  mqtt: { url: 'mqtt://127.0.0.1:1883' },
  camera: { kind: 'http', url: 'http://127.0.0.1:8090/cameras/cooler-01/snapshot.jpg' },
  modelDir: '../models',
  dataDir: './data',
};

const write = async (content: string) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'agent-cfg-'));
  const file = path.join(dir, 'agent.json');
  await writeFile(file, content);
  return { dir, file };
};

describe('agent config', () => {
  it('applies defaults and resolves paths against the config file', async () => {
    const { dir, file } = await write(JSON.stringify(base));
    const cfg = await loadAgentConfig(file);
    expect(cfg.capture.intervalS).toBe(60);
    expect(cfg.dataDir).toBe(path.join(dir, 'data'));
    expect(cfg.modelDir).toBe(path.resolve(dir, '../models'));
  });

  it('says which field is wrong and why', async () => {
    const { file } = await write(JSON.stringify({ ...base, mqtt: { url: 'http://x' }, capture: { intervalS: -1 } }));
    const err = await loadAgentConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/mqtt\.url: mqtt\.url must start with mqtt:\/\//);
    expect((err as Error).message).toMatch(/capture\.intervalS/);
  });

  it('takes the camera view from the config, or from a simulated chest cooler, and refuses an unknown one', async () => {
    const load = async (extra: object) => loadAgentConfig((await write(JSON.stringify({ ...base, ...extra }))).file);
    expect(viewOf(await load({}))).toBe('front');
    expect(viewOf(await load({ view: 'top' }))).toBe('top');
    const chest = { kind: 'simulator', id: 'c', seed: 1, fixture: 'chest' };
    expect(viewOf(await load({ camera: chest }))).toBe('top');
    expect(viewOf(await load({ camera: chest, view: 'front' }))).toBe('front');
    await expect(load({ view: 'side' })).rejects.toThrow(/view/);
  });

  it('reports malformed JSON and a missing file with the path', async () => {
    const { file } = await write('{ "deviceId": ');
    await expect(loadAgentConfig(file)).rejects.toThrow(/not valid JSON/);
    await expect(loadAgentConfig('/nonexistent/agent.json')).rejects.toThrow(/cannot read config \/nonexistent/);
  });
});
