/** Redis names of the gateway; the prefix lets test runs share one Redis without seeing each other. */
export interface RedisKeys {
  presence: string;
  janitorLock: string;
  /** The replica's lease key, and also (pub/sub has its own namespace) its channel. */
  replica(id: string): string;
  /** The channel every replica listens on, for what all of them must hear (a revoked credential). */
  replicas: string;
  /** Hash: agent id → the credential record replicas verify connections with (see `CredentialRecord`). */
  credentials: string;
  /** Hash: agent id → the agent's latest connection epoch, plus the base field `epochBaseField`. */
  epochs: string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    presence: `${prefix}:presence`,
    janitorLock: `${prefix}:janitor`,
    replica: (id) => `${prefix}:replica:${id}`,
    replicas: `${prefix}:replicas`,
    credentials: `${prefix}:credentials`,
    epochs: `${prefix}:epochs`,
  };
}

/**
 * Deletes each (field, value) pair of the presence hash only if the field still holds that value: a
 * replica removes an agent's entry only while it names that replica and epoch. Returns the fields removed.
 */
export const removeIfUnchangedScript = `
local removed = {}
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    removed[#removed + 1] = ARGV[i]
  end
end
return removed
`;
