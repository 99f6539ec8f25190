import { describe, expect, it } from '@jest/globals';
import type { ReceivedEvent } from './envelope.ts';
import { applyIfNewer, skipSeenEvents, type SeenEvents } from './idempotency.ts';

function eventOf<T>(id: string, subject: string, data: T): ReceivedEvent<T> {
  return {
    id,
    type: 'converge.test.v1',
    source: 'test',
    subject,
    time: '',
    data,
    topic: 't',
    partition: 0,
    offset: '0',
  };
}

// The Redis implementation is exercised against the real Redis in test/bus.test.ts.
function seenInMemory(): SeenEvents {
  const ids = new Set<string>();
  return {
    markIfNew: (id) => Promise.resolve(!ids.has(id) && Boolean(ids.add(id))),
    forget: (id) => {
      ids.delete(id);
      return Promise.resolve();
    },
  };
}

describe('idempotent handlers', () => {
  it('skips an event id it has handled, but handles again one whose handling failed', async () => {
    const applied: string[] = [];
    let fail = true;
    const handle = skipSeenEvents<null>((event) => {
      if (fail) return Promise.reject(new Error('down'));
      applied.push(event.id);
      return Promise.resolve();
    }, seenInMemory());

    await expect(handle(eventOf('e1', 'a', null))).rejects.toThrow('down');
    fail = false;
    await handle(eventOf('e1', 'a', null));
    await handle(eventOf('e1', 'a', null));
    expect(applied).toEqual(['e1']);
  });

  it('applies only events newer than the version the projection holds', async () => {
    const versions = new Map<string, number>([['computer-1', 3]]);
    const applied: number[] = [];
    const handle = applyIfNewer<{ version: number }>(
      (event) => {
        applied.push(event.data.version);
        versions.set(event.subject, event.data.version);
        return Promise.resolve();
      },
      (subject) => Promise.resolve(versions.get(subject)),
    );

    for (const version of [2, 3, 4, 4, 6, 5]) await handle(eventOf(`v${version}`, 'computer-1', { version }));
    await handle(eventOf('first', 'computer-2', { version: 1 }));
    expect(applied).toEqual([4, 6, 1]);
  });
});
