import { describe, expect, it } from '@jest/globals';
import { defineEvent, type TopicName } from '@converge/contracts';
import type { KafkaMessage } from 'kafkajs';
import { z } from 'zod';
import { decodeEvent, encodeEvent, sharedHeaders } from './envelope.ts';

const topic = 'test.envelope' as TopicName;
const noted = defineEvent('converge.test.envelope-noted.v1', topic, z.object({ note: z.string().min(1) }));

function asReceived(message: ReturnType<typeof encodeEvent>['message'], offset = '7'): KafkaMessage {
  return {
    key: Buffer.from(String(message.key)),
    value: Buffer.from(String(message.value)),
    headers: Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([name, value]) => [name, Buffer.from(String(value))]),
    ),
    offset,
    timestamp: '0',
    attributes: 0,
  };
}

describe('event envelope', () => {
  it('round-trips an event through the CloudEvents binary-mode headers', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const { id, message } = encodeEvent(
      noted,
      { subject: 'agent-1', tenantId: 'tenant-a', data: { note: 'hi' }, time: new Date(0) },
      sharedHeaders(noted, 'agent-gateway', { traceparent }),
    );
    expect(message.key).toBe('agent-1');
    expect(message.headers).toMatchObject({ ce_id: id, ce_time: '1970-01-01T00:00:00.000Z' });

    expect(decodeEvent(topic, 2, asReceived(message))).toEqual({
      ok: true,
      event: {
        id,
        type: noted.type,
        source: 'agent-gateway',
        subject: 'agent-1',
        time: '1970-01-01T00:00:00.000Z',
        tenantId: 'tenant-a',
        data: { note: 'hi' },
        topic,
        partition: 2,
        offset: '7',
      },
    });
  });

  it('names every missing envelope header as the reason', () => {
    const { message } = encodeEvent(
      noted,
      { subject: 'agent-1', data: { note: 'hi' } },
      sharedHeaders(noted, 'agent-gateway', {}),
    );
    const received = asReceived(message);
    delete received.headers?.ce_subject;
    delete received.headers?.ce_time;
    expect(decodeEvent(topic, 0, received)).toEqual({
      ok: false,
      reason: 'missing headers: ce_time, ce_subject',
    });
  });

  it('rejects a payload that stopped matching its contract', () => {
    const { message } = encodeEvent(
      noted,
      { subject: 'agent-1', data: { note: 'hi' } },
      sharedHeaders(noted, 'agent-gateway', {}),
    );
    const received = { ...asReceived(message), value: Buffer.from('{"note":""}') };
    const decoded = decodeEvent(topic, 0, received);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toContain('note: Too small');
  });
});
