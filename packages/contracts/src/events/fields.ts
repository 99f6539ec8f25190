import { z } from 'zod';

/** Fields shared by many payloads, so that an id or a timestamp is validated the same way everywhere. */
export const id = z.string().min(1).max(128);
export const timestamp = z.iso.datetime({ offset: true });
/** Version of a versioned aggregate: projections apply an event only if it is newer than what they hold. */
export const aggregateVersion = z.number().int().min(1);
export const upn = z.string().min(3).max(256).includes('@');
/**
 * Who waits for the outcome of a command sent to an aggregate's owner (docs/architecture.md §9): the request's id
 * and the replica's answer channel; null when nobody waits.
 */
export const ownerReply = z.object({ requestId: id, replyTo: z.string().min(1).max(256) }).nullable();
