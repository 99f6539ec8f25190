import { describe, expect, it } from '@jest/globals';
import {
  bearerCredential,
  decodeCredentialRecord,
  encodeCredentialRecord,
  hashSecret,
  installTokenRefusal,
  parseSecretPair,
  revokedCredential,
  verifiedTenant,
} from './credential.ts';

const secret = 'q3Vx_8ZkLr0-pA5mW2yN7tB1cD4eF6gH9iJ0kL2mN3o';

describe('credentials', () => {
  it('read `<id>.<secret>` from a bearer header and nothing else', () => {
    expect(bearerCredential(`Bearer 0b6f7c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e.${secret}`)).toEqual({
      id: '0b6f7c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e',
      secret,
    });
    expect(bearerCredential(undefined)).toBeUndefined();
    expect(bearerCredential(`Basic agent.${secret}`)).toBeUndefined();
    expect(bearerCredential('Bearer agent-without-secret')).toBeUndefined();
    expect(parseSecretPair(`a.b.${secret}`)).toBeUndefined();
    expect(parseSecretPair('agent.short')).toBeUndefined();
  });

  it('keep only a SHA-256 of the secret', () => {
    expect(hashSecret(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecret(secret)).not.toContain(secret);
  });

  it('refuse revoked, expired and used-up install tokens', () => {
    const now = new Date('2026-05-01T10:00:00Z');
    const usable = { expiresAt: null, maxUses: null, uses: 10, revokedAt: null };
    expect(installTokenRefusal(usable, now)).toBeUndefined();
    expect(installTokenRefusal({ ...usable, revokedAt: now }, now)).toBe('revoked');
    expect(installTokenRefusal({ ...usable, expiresAt: now }, now)).toBe('expired');
    expect(installTokenRefusal({ ...usable, maxUses: 10 }, now)).toBe('used up');
    expect(installTokenRefusal({ ...usable, maxUses: 11 }, now)).toBeUndefined();
  });

  it('cache a credential as floor, hash and tenant, a tenant id with `|` included', () => {
    const record = {
      revoked: false,
      tenantId: 'tenant|with|bars',
      secretHash: hashSecret(secret),
      epochFloor: 41,
    } as const;
    expect(decodeCredentialRecord(encodeCredentialRecord(record))).toEqual(record);
    expect(decodeCredentialRecord(encodeCredentialRecord(revokedCredential))).toEqual(revokedCredential);
    expect(decodeCredentialRecord(null)).toBeUndefined();
    expect(decodeCredentialRecord('12|hash')).toBeUndefined();
    expect(decodeCredentialRecord('x|hash|tenant')).toBeUndefined();
  });

  it('accept only the matching secret of a credential that is not revoked, for its own tenant', () => {
    const record = {
      revoked: false,
      tenantId: 'tenant-a',
      secretHash: hashSecret(secret),
      epochFloor: 0,
    } as const;
    expect(verifiedTenant(record, hashSecret(secret))).toBe('tenant-a');
    expect(verifiedTenant(record, hashSecret(`${secret}x`))).toBeUndefined();
    expect(verifiedTenant(record, 'short')).toBeUndefined();
    expect(verifiedTenant(revokedCredential, hashSecret(secret))).toBeUndefined();
    expect(verifiedTenant(undefined, hashSecret(secret))).toBeUndefined();
  });
});
