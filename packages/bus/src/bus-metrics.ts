import { getMeter, type Attributes } from '@converge/telemetry';

export interface BusMetrics {
  published(topic: string, count: number): void;
  consumed(topic: string, groupId: string, count: number): void;
  deadLettered(topic: string, groupId: string): void;
  recordLag(groupId: string, topic: string, partition: number, lag: number): void;
  forgetGroup(groupId: string): void;
  close(): void;
}

/** Counters are added once per batch, not per message, to keep them off the hot path. */
export function createBusMetrics(): BusMetrics {
  const meter = getMeter('@converge/bus');
  const published = meter.createCounter('bus_events_published', { description: 'Events published to Kafka' });
  const consumed = meter.createCounter('bus_events_consumed', { description: 'Events handed to a handler' });
  const deadLettered = meter.createCounter('bus_events_dead_lettered', {
    description: 'Messages moved to a dead-letter topic',
  });

  // The lag a consumer saw at the end of its last batch per partition, reported when metrics are read.
  const lags = new Map<string, { attributes: Attributes; lag: number }>();
  const lagGauge = meter.createObservableGauge('bus_consumer_lag', {
    description: 'Messages between the high watermark and the last processed offset, per group and partition',
  });
  const observeLag: Parameters<typeof lagGauge.addCallback>[0] = (result) => {
    for (const { attributes, lag } of lags.values()) result.observe(lag, attributes);
  };
  lagGauge.addCallback(observeLag);

  return {
    published: (topic, count) => {
      published.add(count, { topic });
    },
    consumed: (topic, groupId, count) => {
      consumed.add(count, { topic, group: groupId });
    },
    deadLettered: (topic, groupId) => {
      deadLettered.add(1, { topic, group: groupId });
    },
    recordLag: (groupId, topic, partition, lag) => {
      lags.set(`${groupId}\u0000${topic}\u0000${partition}`, {
        attributes: { group: groupId, topic, partition },
        lag,
      });
    },
    forgetGroup: (groupId) => {
      for (const [key, entry] of lags) if (entry.attributes.group === groupId) lags.delete(key);
    },
    close: () => {
      lagGauge.removeCallback(observeLag);
    },
  };
}
