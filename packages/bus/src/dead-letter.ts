import type { KafkaMessage, Message } from 'kafkajs';

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
