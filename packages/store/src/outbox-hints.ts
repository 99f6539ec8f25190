/*
 * Which documents just got outbox entries, told by the writes of this process (the `outboxPlugin` middleware)
 * to the relays of this process that watch the same collection. A hint only saves the relay a search: one that
 * is never given (a write in another process, or by a path the middleware does not see) is found by the
 * relay's periodic sweep instead.
 */

type Listener = (documentId: unknown) => void;

/** By collection object (one per connection and collection name), the relays watching it. */
const listeners = new WeakMap<object, Set<Listener>>();

export function hintOutbox(collection: object, documentId: unknown): void {
  const watching = listeners.get(collection);
  if (watching === undefined) return;
  for (const listener of watching) listener(documentId);
}

/** Calls `listener` with each document id hinted for `collection`, until the returned function is called. */
export function watchOutbox(collection: object, listener: Listener): () => void {
  let watching = listeners.get(collection);
  if (watching === undefined) {
    watching = new Set();
    listeners.set(collection, watching);
  }
  watching.add(listener);
  return () => watching.delete(listener);
}
