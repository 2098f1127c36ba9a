import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DeviceRegistry,
  ProvisionError,
  authorizeDeviceSubscribe,
  hashPassword,
  mosquittoAclFile,
  mosquittoPasswordFile,
  parseCli,
  verifyPassword,
} from '@shelfsight/cloud';

describe('device registry', () => {
  it('refuses an expired claim token', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const reg = await DeviceRegistry.open({ file: null, now: () => now });
    const claim = await reg.createClaim({ deviceId: 'cam-exp', ttlS: 60 });
    now = new Date('2030-01-01T00:01:00Z');
    const err = await reg.provision(claim.claimToken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvisionError);
    expect(err).toMatchObject({ code: 'expired', status: 401 });
  });

  it('burns a token once even under concurrent use', async () => {
    const reg = await DeviceRegistry.open({ file: null });
    const claim = await reg.createClaim({ deviceId: 'cam-race' });
    const results = await Promise.allSettled([1, 2, 3].map(() => reg.provision(claim.claimToken)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(
      ['already_used', 'already_used'],
    );
  });

  it('persists hashes (never passwords or tokens) atomically with mode 0600, and reloads them', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'registry-'));
    const file = path.join(dir, 'devices.json');
    const reg = await DeviceRegistry.open({ file });
    const claim = await reg.createClaim({ deviceId: 'cam-p' });
    const creds = await reg.provision(claim.claimToken);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(creds.password);
    expect(text).not.toContain(claim.claimToken);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await DeviceRegistry.open({ file });
    expect(await again.verify('cam-p', Buffer.from(creds.password))).toBe(true);
    expect(await again.verify('cam-p', 'nope')).toBe(false);
    expect(await again.verify('cam-unknown', creds.password)).toBe(false);
    await expect(again.provision(claim.claimToken)).rejects.toMatchObject({ code: 'already_used' });
  });

  it('stores Mosquitto-compatible $7$ PBKDF2-SHA512 hashes', async () => {
    const h = await hashPassword('secretpw', 101);
    expect(h).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(await verifyPassword('secretpw', h)).toBe(true);
    // Made by Debian's `mosquitto_passwd -b` for the same password:
    const fromMosquitto =
      '$7$101$GEhAAyr43Bjrl3Ze$Q0MIhUfRV86FgYA03SLXkhFCn+SOuwrFahtaboPUO9F9czV8lQyvyyREk6lAk9IpzK+AYWH6uEnUmyutR6DOdg==';
    expect(await verifyPassword('secretpw', fromMosquitto)).toBe(true);
    expect(await verifyPassword('secretpx', fromMosquitto)).toBe(false);
  });

  it('generates Mosquitto password and ACL files with the same topic rules', async () => {
    const reg = await DeviceRegistry.open({ file: null, pbkdf2Iterations: 101 });
    await reg.issue('cam-m1');
    await reg.issue('cam-m2');
    await reg.revoke('cam-m2');
    const passwd = mosquittoPasswordFile(reg, [{ username: 'ops', passwordHash: await hashPassword('x', 101) }]);
    expect(
      passwd
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0]),
    ).toEqual(['cam-m1', 'ops']);
    const acl = mosquittoAclFile([{ username: 'ops' }]);
    expect(acl).toContain('pattern write shelfsight/v1/devices/%u/observations');
    expect(acl).toContain('pattern read shelfsight/v1/devices/%u/config');
    expect(acl).toContain('pattern read shelfsight/v1/devices/%u/commands');
    expect(acl).not.toMatch(/pattern (read|write) shelfsight\/v1\/devices\/%u\/#/);
    expect(acl).toContain('user ops\ntopic readwrite shelfsight/v1/#');
  });

  it('subscribe rule: exactly own cloud→device topics', () => {
    expect(authorizeDeviceSubscribe('a', 'shelfsight/v1/devices/a/config')).toBeNull();
    expect(authorizeDeviceSubscribe('a', 'shelfsight/v1/devices/a/commands')).toBeNull();
    expect(authorizeDeviceSubscribe('a', 'shelfsight/v1/devices/a/status')).not.toBeNull();
    expect(authorizeDeviceSubscribe('a', 'shelfsight/v1/devices/a/+')).not.toBeNull();
    expect(authorizeDeviceSubscribe('a', 'shelfsight/v1/devices/b/config')).not.toBeNull();
    expect(authorizeDeviceSubscribe('a', 'shelfsight/v1/devices/+/config')).not.toBeNull();
  });

  it('CLI: auth defaults to required; TLS flags go together; the admin token only from env', () => {
    expect(parseCli([], {})).toMatchObject({ kind: 'run', options: { auth: 'required' } });
    expect(parseCli(['--auth', 'off'], {})).toMatchObject({ options: { auth: 'off' } });
    expect(parseCli(['--auth', 'maybe'], {})).toMatchObject({ kind: 'error' });
    const half = parseCli(['--mqtts-port', '8883'], {});
    expect(half.kind === 'error' && half.message).toMatch(/--mqtts-port, --tls-cert and --tls-key together/);
    expect(parseCli(['--admin-token', 'x'], {})).toMatchObject({ kind: 'error' });
    expect(parseCli([], { SHELFSIGHT_ADMIN_TOKEN: 'a-long-enough-admin-token' })).toMatchObject({
      options: { adminToken: 'a-long-enough-admin-token' },
    });
  });
});
