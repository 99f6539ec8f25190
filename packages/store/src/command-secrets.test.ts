import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createCommandSecrets, type CommandSecretBinding } from './command-secrets.ts';

describe('command secrets', () => {
  const key = randomBytes(32);
  const secrets = createCommandSecrets(key);
  const binding: CommandSecretBinding = { tenantId: 'tenant-a', agentId: 'agent-1', sessionId: 'session-1' };
  const sealed = { ApiKey: secrets.seal(binding, 'ApiKey', 'hunter2-api-key') };

  it('opens for the tenant, agent and session it was sealed for, and the sealed form hides the value', () => {
    expect(sealed.ApiKey).not.toContain('hunter2');
    expect(secrets.open(binding, sealed)).toEqual({ ApiKey: 'hunter2-api-key' });
  });

  it('refuses a sealed value replayed into another tenant, agent or session', () => {
    for (const other of [
      { ...binding, tenantId: 'tenant-b' },
      { ...binding, agentId: 'agent-2' },
      { ...binding, sessionId: 'session-2' },
    ]) {
      expect(() => secrets.open(other, sealed)).toThrow('secret parameter "ApiKey" does not open');
    }
  });

  it('refuses a sealed value moved under another parameter name', () => {
    expect(() => secrets.open(binding, { Note: sealed.ApiKey })).toThrow('"Note" does not open');
  });

  it('keeps ids apart that would join into the same text', () => {
    const joined = secrets.seal({ tenantId: 'a:b', agentId: 'c', sessionId: 's' }, 'p', 'v');
    expect(() => secrets.open({ tenantId: 'a', agentId: 'b:c', sessionId: 's' }, { p: joined })).toThrow();
  });

  it('refuses a tampered value, and one sealed with another key (such as DEPLOYMENT_SECRETS_KEY)', () => {
    const [version, iv, tag, data = ''] = sealed.ApiKey.split(':');
    const flipped = Buffer.from(data, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const tampered = [version, iv, tag, flipped.toString('base64')].join(':');
    expect(() => secrets.open(binding, { ApiKey: tampered })).toThrow('does not open');
    const otherKey = createCommandSecrets(randomBytes(32));
    expect(() => otherKey.open(binding, sealed)).toThrow('does not open');
  });

  it('opens a parameter named __proto__ as a plain entry', () => {
    const opened = secrets.open(binding, { ['__proto__']: secrets.seal(binding, '__proto__', 'x') });
    expect(Object.getPrototypeOf(opened)).toBe(Object.prototype);
    expect(Object.entries(opened)).toEqual([['__proto__', 'x']]);
  });
});
