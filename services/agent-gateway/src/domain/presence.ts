/** Where an agent is connected: the Redis presence entry `agentId -> replica|epoch|connectedSinceMs`. */
export interface Presence {
  replica: string;
  epoch: number;
  connectedSinceMs: number;
}

export function encodePresence(presence: Presence): string {
  return `${presence.replica}|${String(presence.epoch)}|${String(presence.connectedSinceMs)}`;
}

/** Undefined for anything this build did not write (a replica id cannot contain `|`, see config). */
export function decodePresence(value: string | null | undefined): Presence | undefined {
  if (value === null || value === undefined) return undefined;
  const parts = value.split('|');
  if (parts.length !== 3) return undefined;
  const [replica = '', epochText = '', sinceText = ''] = parts;
  const epoch = Number(epochText);
  const connectedSinceMs = Number(sinceText);
  if (replica === '' || !Number.isInteger(epoch) || epoch < 1 || !Number.isInteger(connectedSinceMs)) {
    return undefined;
  }
  return { replica, epoch, connectedSinceMs };
}
