import { describe, expect, it } from '@jest/globals';
import { createLogger } from './logger.ts';

describe('agent logger', () => {
  it('writes one JSON line per entry at or above its level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', write: (line) => lines.push(line), now: () => new Date(0) });
    logger.debug({}, 'hidden');
    logger.info({ agentId: 'a1' }, 'connected');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 'info',
      time: '1970-01-01T00:00:00.000Z',
      service: 'converge-agent',
      msg: 'connected',
      agentId: 'a1',
    });
  });

  it('never writes a secret, however deep, and logs errors by name and message', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    logger.error(
      {
        credential: { agentId: 'a1', credentialSecret: 's3cr3t' },
        installToken: 't0k3n',
        err: new Error('boom'),
      },
      'failed',
    );
    expect(lines[0]).not.toMatch(/s3cr3t|t0k3n/);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      credential: { agentId: 'a1', credentialSecret: '[redacted]' },
      err: { name: 'Error', message: 'boom' },
    });
  });
});
