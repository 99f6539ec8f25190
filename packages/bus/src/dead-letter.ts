import type { Logger } from '@converge/telemetry';
import type { KafkaMessage, Message, Producer } from 'kafkajs';
import type { BusMetrics } from './bus-metrics.ts';

/** Every topic has one dead-letter topic beside it, created with it by `ensureTopics`. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlt`;
}

// Error messages can be long (a stack, a validation dump); a header only needs enough to triage.
const maxReasonLength = 1_000;

/** The original key, value and headers, plus where the message came from and why it was set aside. */
export function deadLetterMessage(
  topic: string,
  partition: number,
  message: KafkaMessage,
  reason: string,
): Message {
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      dlt_reason: reason.length > maxReasonLength ? `${reason.slice(0, maxReasonLength)}…` : reason,
      dlt_topic: topic,
      dlt_partition: String(partition),
      dlt_offset: message.offset,
    },
  };
}

/** Sets one message aside on its topic's dead-letter topic, counted and logged with the reason. */
export async function sendToDeadLetter(
  deps: { producer: Producer; metrics: BusMetrics },
  consumer: { groupId: string; logger: Logger },
  source: { topic: string; partition: number },
  message: KafkaMessage,
  reason: string,
): Promise<void> {
  const { topic, partition } = source;
  await deps.producer.send({
    topic: deadLetterTopic(topic),
    messages: [deadLetterMessage(topic, partition, message, reason)],
  });
  deps.metrics.deadLettered(topic, consumer.groupId);
  consumer.logger.warn({ topic, partition, offset: message.offset, reason }, 'message dead-lettered');
}
