import { createRequire } from 'node:module';
import type { ICustomPartitioner, IHeaders } from 'kafkajs';

/*
 * How kafkajs 2.2.4 (its last release) turns a message into bytes costs more than anything else a busy
 * producer does (bench:sessions, CPU profile of the sessions process: 0.8 ms of every action's 4 ms was spent
 * encoding its twelve messages, a quarter of that allocating). Each record is built in a zero-filled 512-byte
 * buffer, each of its headers in another (an event carries eight or nine), every varint in a buffer of its own,
 * and then all of them are copied again; its default partitioner hashes every key with 64-bit `Long` objects.
 * The two functions below write the same bytes and choose the same partitions, and `bus.ts` installs them:
 * the record encoder in place of kafkajs' own (a module kafkajs loads on its first produce request), the
 * partitioner through kafkajs' `createPartitioner` option.
 */

type Bytes = Buffer | string | null | undefined;

interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Bytes;
  value?: Bytes;
  headers?: IHeaders;
}

/** kafkajs' `Encoder`, of which a record batch expects its records to be instances. */
interface Encoder {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
}

const require = createRequire(import.meta.url);
const kafkajsVersion = (require('kafkajs/package.json') as { version: string }).version;
if (kafkajsVersion !== '2.2.4') {
  throw new Error(
    `kafkajs-records.ts is written for kafkajs 2.2.4, not ${kafkajsVersion}: check it still applies`,
  );
}
const EncoderClass = require('kafkajs/src/protocol/encoder.js') as { prototype: Encoder };
const recordModulePath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
// Every produce request version kafkajs speaks from v3 on encodes its records through this module.
const produceRequestPath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');

function byteLength(bytes: Bytes): number {
  if (bytes === null || bytes === undefined) return -1;
  return typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.length;
}

function zigZag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function varIntSize(value: number): number {
  let unsigned = zigZag(value);
  let size = 1;
  while (unsigned >= 0x80) {
    unsigned = Math.floor(unsigned / 0x80);
    size++;
  }
  return size;
}

/** A field's size as written: its length (a varint, -1 for null) and its bytes. */
function fieldSize(length: number): number {
  return varIntSize(length) + Math.max(0, length);
}

class RecordWriter {
  offset = 0;
  readonly buf: Buffer;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  varInt(value: number): void {
    let unsigned = zigZag(value);
    while (unsigned >= 0x80) {
      this.buf[this.offset++] = (unsigned % 0x80) | 0x80;
      unsigned = Math.floor(unsigned / 0x80);
    }
    this.buf[this.offset++] = unsigned;
  }

  field(bytes: Bytes, length: number): void {
    this.varInt(length);
    if (bytes === null || bytes === undefined) return;
    if (typeof bytes === 'string') this.buf.write(bytes, this.offset, length, 'utf8');
    else bytes.copy(this.buf, this.offset);
    this.offset += length;
  }
}

/**
 * One record of a record batch (magic 2), byte for byte as kafkajs writes it: length, attributes, timestamp
 * delta, offset delta, key, value, headers (a header with several values is written once per value).
 */
export function encodeRecord({
  offsetDelta = 0,
  timestampDelta = 0,
  key,
  value,
  headers = {},
}: RecordInput): Encoder {
  const headerKeys: string[] = [];
  const headerValues: Bytes[] = [];
  for (const [name, headerValue] of Object.entries(headers)) {
    for (const one of Array.isArray(headerValue) ? headerValue : [headerValue]) {
      headerKeys.push(name);
      headerValues.push(one);
    }
  }
  const keyLength = byteLength(key);
  const valueLength = byteLength(value);
  const headerKeyLengths = headerKeys.map((name) => Buffer.byteLength(name, 'utf8'));
  const headerValueLengths = headerValues.map(byteLength);
  let bodySize =
    1 +
    varIntSize(timestampDelta) +
    varIntSize(offsetDelta) +
    fieldSize(keyLength) +
    fieldSize(valueLength) +
    varIntSize(headerKeys.length);
  for (let index = 0; index < headerKeys.length; index++) {
    bodySize += fieldSize(headerKeyLengths[index] ?? 0) + fieldSize(headerValueLengths[index] ?? -1);
  }
  const writer = new RecordWriter(varIntSize(bodySize) + bodySize);
  writer.varInt(bodySize);
  writer.buf[writer.offset++] = 0; // attributes: none are used in a record
  writer.varInt(timestampDelta);
  writer.varInt(offsetDelta);
  writer.field(key, keyLength);
  writer.field(value, valueLength);
  writer.varInt(headerKeys.length);
  for (let index = 0; index < headerKeys.length; index++) {
    writer.field(headerKeys[index], headerKeyLengths[index] ?? 0);
    writer.field(headerValues[index], headerValueLengths[index] ?? -1);
  }
  return Object.assign(Object.create(EncoderClass.prototype) as Encoder, {
    buf: writer.buf,
    offset: writer.offset,
  });
}

/** A key's UTF-8 bytes. Keys are ids, almost always ASCII: then its characters are its bytes, read in place. */
function keyBytes(key: Buffer | string): { at: (index: number) => number; length: number } {
  if (typeof key === 'string' && Buffer.byteLength(key, 'utf8') === key.length) {
    return { at: (index) => key.charCodeAt(index), length: key.length };
  }
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return { at: (index) => bytes[index] ?? 0, length: bytes.length };
}

const seed = 0x9747b28c;
const multiplier = 0x5bd1e995;

/** The Java client's murmur2 of a key's UTF-8 bytes, as a signed 32-bit integer (Kafka's default partitioner). */
export function murmur2(key: Buffer | string): number {
  const { at, length } = keyBytes(key);
  let hash = seed ^ length;
  const whole = length - (length % 4);
  for (let index = 0; index < whole; index += 4) {
    let k = at(index) | (at(index + 1) << 8) | (at(index + 2) << 16) | (at(index + 3) << 24);
    k = Math.imul(k, multiplier);
    k ^= k >>> 24;
    k = Math.imul(k, multiplier);
    hash = Math.imul(hash, multiplier) ^ k;
  }
  const rest = length - whole;
  if (rest > 0) {
    if (rest === 3) hash ^= at(whole + 2) << 16;
    if (rest >= 2) hash ^= at(whole + 1) << 8;
    hash ^= at(whole);
    hash = Math.imul(hash, multiplier);
  }
  hash ^= hash >>> 13;
  hash = Math.imul(hash, multiplier);
  hash ^= hash >>> 15;
  return hash | 0;
}

/**
 * kafkajs' DefaultPartitioner (the Java client's): a message's own partition, else the key's murmur2 modulo
 * the topic's partitions, else the topic's available partitions in turn.
 */
export const keyPartitioner: ICustomPartitioner = () => {
  const turns = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== undefined) return message.partition;
    if (message.key !== undefined && message.key !== null) {
      return (murmur2(message.key) & 0x7fffffff) % partitionMetadata.length;
    }
    const turn = ((turns.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1) & 0x7fffffff;
    turns.set(topic, turn);
    const available = partitionMetadata.filter((partition) => partition.leader >= 0);
    const chosen = available.length > 0 ? available[turn % available.length] : undefined;
    return chosen?.partitionId ?? turn % partitionMetadata.length;
  };
};

/**
 * Makes kafkajs encode records with `encodeRecord`: its produce request takes the record encoder when it is first
 * loaded, on the first produce. A process that produced before this ran keeps kafkajs' own encoder (correct,
 * only slower), so the answer says whether it took.
 */
export function installRecordEncoder(): boolean {
  if (require.cache[produceRequestPath] !== undefined) {
    return require.cache[recordModulePath]?.exports === encodeRecord;
  }
  require(recordModulePath);
  const record = require.cache[recordModulePath];
  if (record === undefined) return false;
  record.exports = encodeRecord;
  return true;
}
