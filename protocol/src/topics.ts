import { SLUG_PATTERN } from './ids.js';

/** Protocol major version; it is part of every topic so that v1 and v2 devices can share a broker. */
export const PROTOCOL_VERSION = 1;
export const TOPIC_ROOT = `shelfsight/v${PROTOCOL_VERSION}`;

/** The leaf of each per-device topic, and the direction it flows in. */
export const TOPIC_KINDS = {
  observations: { direction: 'device→cloud', qos: 1, retain: false },
  status: { direction: 'device→cloud', qos: 1, retain: true },
  config: { direction: 'cloud→device', qos: 1, retain: true },
  commands: { direction: 'cloud→device', qos: 1, retain: false },
  replies: { direction: 'device→cloud', qos: 1, retain: false },
  ota: { direction: 'cloud→device', qos: 1, retain: true },
  events: { direction: 'device→cloud', qos: 1, retain: false },
  'ota-state': { direction: 'device→cloud', qos: 1, retain: false },
} as const;

export type TopicKind = keyof typeof TOPIC_KINDS;

export const deviceTopic = (deviceId: string, kind: TopicKind): string => {
  if (!SLUG_PATTERN.test(deviceId)) throw new Error(`invalid deviceId for a topic: ${JSON.stringify(deviceId)}`);
  return `${TOPIC_ROOT}/devices/${deviceId}/${kind}`;
};

export const topics = {
  observations: (deviceId: string) => deviceTopic(deviceId, 'observations'),
  status: (deviceId: string) => deviceTopic(deviceId, 'status'),
  config: (deviceId: string) => deviceTopic(deviceId, 'config'),
  commands: (deviceId: string) => deviceTopic(deviceId, 'commands'),
  replies: (deviceId: string) => deviceTopic(deviceId, 'replies'),
  ota: (deviceId: string) => deviceTopic(deviceId, 'ota'),
  otaState: (deviceId: string) => deviceTopic(deviceId, 'ota-state'),
  events: (deviceId: string) => deviceTopic(deviceId, 'events'),
};

/** Subscription filters the cloud uses (single-level wildcard on the device id). */
export const cloudSubscriptions = {
  observations: `${TOPIC_ROOT}/devices/+/observations`,
  status: `${TOPIC_ROOT}/devices/+/status`,
  replies: `${TOPIC_ROOT}/devices/+/replies`,
  otaState: `${TOPIC_ROOT}/devices/+/ota-state`,
  events: `${TOPIC_ROOT}/devices/+/events`,
} as const;

export interface ParsedTopic {
  deviceId: string;
  kind: TopicKind;
}

/** Parses a concrete per-device topic; returns null for anything outside the v1 device tree. */
export const parseDeviceTopic = (topic: string): ParsedTopic | null => {
  const parts = topic.split('/');
  if (parts.length !== 5) return null;
  const [root, version, devices, deviceId, kind] = parts;
  if (`${root}/${version}` !== TOPIC_ROOT || devices !== 'devices') return null;
  if (deviceId === undefined || !SLUG_PATTERN.test(deviceId)) return null;
  if (kind === undefined || !(kind in TOPIC_KINDS)) return null;
  return { deviceId, kind: kind as TopicKind };
};
