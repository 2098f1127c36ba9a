import { describe, expect, it } from 'vitest';
import { TOPIC_KINDS, cloudSubscriptions, deviceTopic, parseDeviceTopic, topics } from '@shelfsight/protocol';

describe('topic tree', () => {
  it('builds versioned per-device topics', () => {
    expect(topics.observations('cam-01')).toBe('shelfsight/v1/devices/cam-01/observations');
    expect(topics.status('cam-01')).toBe('shelfsight/v1/devices/cam-01/status');
  });

  it('refuses device ids that would break the topic tree', () => {
    for (const bad of ['a/b', '+', '#', '', 'a b']) expect(() => topics.config(bad)).toThrow(/invalid deviceId/);
  });

  it('parses every kind it builds and nothing else', () => {
    for (const kind of Object.keys(TOPIC_KINDS) as (keyof typeof TOPIC_KINDS)[]) {
      expect(parseDeviceTopic(deviceTopic('cam-9', kind))).toEqual({ deviceId: 'cam-9', kind });
    }
    expect(topics.otaState('cam-9')).toBe('shelfsight/v1/devices/cam-9/ota-state');
    for (const kind of ['observations', 'status', 'config', 'commands', 'replies', 'ota'] as const) {
      expect(topics[kind]('cam-9')).toBe(deviceTopic('cam-9', kind));
    }
    expect(parseDeviceTopic('shelfsight/v2/devices/cam-9/status')).toBeNull();
    expect(parseDeviceTopic('shelfsight/v1/devices/cam-9/secrets')).toBeNull();
    expect(parseDeviceTopic('shelfsight/v1/devices/cam-9/status/extra')).toBeNull();
    expect(parseDeviceTopic(cloudSubscriptions.observations)).toBeNull();
  });

  it('marks status and config retained, observations not', () => {
    expect(TOPIC_KINDS.status.retain).toBe(true);
    expect(TOPIC_KINDS.config.retain).toBe(true);
    expect(TOPIC_KINDS.observations.retain).toBe(false);
  });
});
