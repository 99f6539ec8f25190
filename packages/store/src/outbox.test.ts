import { describe, expect, it } from '@jest/globals';
import { fromStoredEntry, outboxEntry, withOutbox } from './outbox.ts';

const event = {
  type: 'converge.computer.renamed.v1',
  topic: 'identity.computer-events',
  subject: 'c-1',
  tenantId: 't-1',
  data: { 'setup.exe': { args: [['/S'], ['/norestart']] } },
};

describe('outbox entries', () => {
  it('get an event id and a time, and keep a payload FerretDB could not store as such', () => {
    const entry = outboxEntry(event);
    expect(entry.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(entry.time).toBeInstanceOf(Date);
    expect(typeof entry.data).toBe('string');
    expect(fromStoredEntry(entry)).toEqual({ ...event, id: entry.id, time: entry.time });
  });

  it('keep a given id, so a retried command does not create a second event', () => {
    expect(outboxEntry({ ...event, id: 'e-1' }).id).toBe('e-1');
  });

  it('need a payload', () => {
    expect(() => outboxEntry({ ...event, data: undefined })).toThrow(TypeError);
  });

  it('join the state change in the same update, beside its other pushes and increments', () => {
    const update = withOutbox({ $set: { name: 'pc-2' }, $push: { names: 'pc-1' } }, [event, event]);
    expect(update.$set).toEqual({ name: 'pc-2' });
    expect(update.$push).toMatchObject({
      names: 'pc-1',
      outbox: { $each: [expect.any(Object), expect.any(Object)] },
    });
  });
});
