import { randomUUID } from 'node:crypto';
import { ContractViolation, findContract, parseEventData, type EventContract } from '@converge/contracts';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/** CloudEvents 1.0 Kafka binary mode: attributes travel as `ce_` headers, the value is the JSON payload. */
export const envelopeHeaders = {
  specVersion: 'ce_specversion',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  subject: 'ce_subject',
  contentType: 'content-type',
  tenantId: 'tenantid',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

const specVersion = '1.0';
const jsonContentType = 'application/json';

export interface OutgoingEvent<T> {
  /** The aggregate id: also the message key, so events about one aggregate stay in order. */
  subject: string;
  tenantId?: string;
  data: T;
  /** Reuse an id when re-publishing the same event (an outbox relay after a crash) so consumers can skip it. */
  id?: string;
  time?: Date;
}

export interface ReceivedEvent<T = unknown> {
  id: string;
  type: string;
  source: string;
  subject: string;
  time: string;
  tenantId?: string;
  data: T;
  topic: string;
  partition: number;
  offset: string;
}

const specVersionValue = Buffer.from(specVersion);
const jsonContentTypeValue = Buffer.from(jsonContentType);

/**
 * The headers every event of one send shares (spec version, type, source, content type, the producer's trace
 * context), encoded once per send: kafkajs writes each header separately, so per-event copies cost throughput.
 */
export function sharedHeaders(
  contract: EventContract<unknown>,
  source: string,
  traceHeaders: Readonly<Record<string, string>>,
): Readonly<IHeaders> {
  const headers: IHeaders = {
    [envelopeHeaders.specVersion]: specVersionValue,
    [envelopeHeaders.type]: Buffer.from(contract.type),
    [envelopeHeaders.source]: Buffer.from(source),
    [envelopeHeaders.contentType]: jsonContentTypeValue,
  };
  for (const [name, value] of Object.entries(traceHeaders)) headers[name] = Buffer.from(value);
  return headers;
}

/** Validates `event.data` against the contract (throwing `ContractViolation`) and builds the Kafka message. */
export function encodeEvent<T>(
  contract: EventContract<T>,
  event: OutgoingEvent<T>,
  shared: Readonly<IHeaders>,
): { id: string; message: Message } {
  const data = parseEventData(contract, event.data);
  const id = event.id ?? randomUUID();
  const headers: IHeaders = {
    ...shared,
    [envelopeHeaders.id]: id,
    [envelopeHeaders.time]: (event.time ?? new Date()).toISOString(),
    [envelopeHeaders.subject]: event.subject,
  };
  if (event.tenantId !== undefined) headers[envelopeHeaders.tenantId] = event.tenantId;
  return { id, message: { key: event.subject, value: JSON.stringify(data), headers } };
}

export type DecodeResult = { ok: true; event: ReceivedEvent } | { ok: false; reason: string };

/** Reads and validates an incoming message; an invalid one yields the reason it belongs in the dead-letter topic. */
export function decodeEvent(topic: string, partition: number, message: KafkaMessage): DecodeResult {
  const headers = message.headers ?? {};
  const version = headerText(headers, envelopeHeaders.specVersion);
  if (version !== specVersion) return invalid(`unsupported ce_specversion: ${version ?? 'missing'}`);
  const contentType = headerText(headers, envelopeHeaders.contentType);
  if (contentType !== undefined && contentType !== jsonContentType) {
    return invalid(`unsupported content-type: ${contentType}`);
  }

  const id = headerText(headers, envelopeHeaders.id);
  const type = headerText(headers, envelopeHeaders.type);
  const source = headerText(headers, envelopeHeaders.source);
  const time = headerText(headers, envelopeHeaders.time);
  const subject = headerText(headers, envelopeHeaders.subject);
  if (!id || !type || !source || !time || !subject) {
    const missing = [
      [envelopeHeaders.id, id],
      [envelopeHeaders.type, type],
      [envelopeHeaders.source, source],
      [envelopeHeaders.time, time],
      [envelopeHeaders.subject, subject],
    ]
      .filter(([, value]) => !value)
      .map(([name]) => name);
    return invalid(`missing headers: ${missing.join(', ')}`);
  }

  const contract = findContract(type);
  if (!contract) return invalid(`unknown event type: ${type}`);
  if (message.value === null) return invalid('empty value');

  let payload: unknown;
  try {
    payload = JSON.parse(message.value.toString('utf8'));
  } catch (error) {
    return invalid(`value is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }

  let data: unknown;
  try {
    data = parseEventData(contract, payload);
  } catch (error) {
    if (error instanceof ContractViolation) return invalid(error.message);
    throw error;
  }

  const event: ReceivedEvent = {
    id,
    type,
    source,
    subject,
    time,
    data,
    topic,
    partition,
    offset: message.offset,
  };
  const tenantId = headerText(headers, envelopeHeaders.tenantId);
  if (tenantId !== undefined) event.tenantId = tenantId;
  return { ok: true, event };
}

/** Narrows a received event to a contract's payload type (the data was validated against it on receipt). */
export function isEvent<T>(event: ReceivedEvent, contract: EventContract<T>): event is ReceivedEvent<T> {
  return event.type === contract.type;
}

/** A header as text; Kafka allows repeated headers, the last one wins. */
export function headerText(headers: IHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  const last = Array.isArray(value) ? value.at(-1) : value;
  if (last === undefined) return undefined;
  return typeof last === 'string' ? last : last.toString('utf8');
}

function invalid(reason: string): DecodeResult {
  return { ok: false, reason };
}
