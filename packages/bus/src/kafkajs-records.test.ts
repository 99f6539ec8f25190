import { createRequire } from 'node:module';
import { describe, expect, it } from '@jest/globals';
import { Partitioners, type IHeaders, type PartitionerArgs } from 'kafkajs';
import { seededRandom } from '@converge/testing';
import { encodeRecord, keyPartitioner, murmur2 } from './kafkajs-records.ts';

const require = createRequire(import.meta.url);
type Record = (input: object) => { buffer: Buffer };
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as Record;
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer | string,
) => number;

const random = seededRandom(11);
const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-:.é€😀';
function text(maxLength: number): string {
  const length = Math.floor(random() * maxLength);
  return Array.from(alphabet.slice(0, random() < 0.8 ? 39 : alphabet.length)) // mostly ASCII, as ids are
    .sort(() => random() - 0.5)
    .join('')
    .repeat(3)
    .slice(0, length);
}

describe('records as kafkajs encodes them', () => {
  const cases: [string, object][] = [
    [
      'an event as the bus sends it',
      {
        offsetDelta: 3,
        timestampDelta: 12,
        key: 'session-0001',
        value: JSON.stringify({ sessionId: 'session-0001', status: 'running' }),
        headers: {
          ce_specversion: Buffer.from('1.0'),
          ce_id: '0f5b8f0e-6a3b-4c55-9d0e-0c1f2a3b4c5d',
          ce_type: Buffer.from('converge.session.status-changed.v1'),
          ce_time: '2026-12-03T17:00:00.000Z',
          tenantid: 'tenant-contoso',
        } satisfies IHeaders,
      },
    ],
    ['no key, no headers', { value: Buffer.from('x') }],
    ['a null value (a tombstone)', { key: 'k', value: null }],
    ['a header with several values', { key: 'k', value: 'v', headers: { h: ['a', Buffer.from('b')] } }],
    ['multi-byte characters', { key: 'clé-€', value: 'naïve 😀', headers: { ключ: 'значение' } }],
    [
      'large deltas and a large value',
      {
        offsetDelta: 70_000,
        timestampDelta: 5_000_000_000,
        key: 'k',
        value: 'v'.repeat(20_000),
      },
    ],
  ];

  it.each(cases)('writes the same bytes: %s', (_name, input) => {
    expect(encodeRecord(input).buffer).toEqual(kafkajsRecord(input).buffer);
  });

  it('writes the same bytes for many random records', () => {
    for (let run = 0; run < 500; run++) {
      const headers: IHeaders = {};
      for (let header = 0; header < Math.floor(random() * 10); header++) headers[text(12) || 'h'] = text(60);
      const input = {
        offsetDelta: Math.floor(random() * 1000),
        timestampDelta: Math.floor(random() * 100_000),
        key: random() < 0.1 ? null : text(40),
        value: random() < 0.5 ? text(300) : Buffer.from(text(300)),
        headers,
      };
      expect(encodeRecord(input).buffer).toEqual(kafkajsRecord(input).buffer);
    }
  });
});

describe('partitions as kafkajs chooses them', () => {
  it("hashes keys as kafkajs' default partitioner (the Java client's murmur2)", () => {
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'session-0001', 'clé-€', Buffer.from([0xff, 0x80, 0x01])];
    for (let run = 0; run < 2000; run++) keys.push(text(50));
    for (const key of keys) expect(murmur2(key)).toBe(kafkajsMurmur2(key));
  });

  it('sends a keyed message to the partition kafkajs would, and a message with a partition to that one', () => {
    const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({
      partitionId,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    const ours = keyPartitioner();
    const kafkajs = Partitioners.DefaultPartitioner();
    for (let run = 0; run < 500; run++) {
      const args: PartitionerArgs = { topic: 't', partitionMetadata, message: { key: text(40), value: 'v' } };
      expect(ours(args)).toBe(kafkajs(args));
    }
    expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: 'v', partition: 7 } })).toBe(7);
    const keyless = new Set(
      Array.from({ length: 24 }, () => ours({ topic: 't', partitionMetadata, message: { value: 'v' } })),
    );
    expect(keyless.size).toBe(12);
  });
});
