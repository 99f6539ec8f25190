import type { Redis } from 'ioredis';
import { DomainError, UnavailableError } from '@converge/errors';
import type { Logger } from '@converge/telemetry';
import { parseSecretPair } from '../domain/credential.ts';
import { addressBucketName, clientAddress } from '../domain/enrollment-throttle.ts';

export interface BucketSettings {
  burst: number;
  perMinute: number;
}

export interface EnrollmentThrottleOptions {
  redis: Redis;
  /** Prefix of the bucket keys, e.g. `gateway:enrollment`. */
  keyPrefix: string;
  perAddress: BucketSettings;
  perInstallToken: BucketSettings;
  /** Reverse proxies in front of the agent listeners whose `x-forwarded-for` entries are trusted. */
  trustedProxies: number;
  logger: Logger;
}

/** An enrollment attempt refused before it ran: its bucket is empty for another `retryAfterSeconds`. */
export class TooManyEnrollmentsError extends DomainError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super(
      { status: 429, title: 'Too Many Requests', type: 'about:blank' },
      'too many refused enrollment attempts from this address or for this install token, retry later',
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

// Token buckets in Redis, so every replica counts against the same buckets and a client gains nothing by
// spreading its attempts over replicas. One atomic script takes a token from every bucket named, or from none
// and answers how many milliseconds until all of them hold one again. The clock is Redis' own, the same for
// every replica. KEYS: the buckets; ARGV: each bucket's burst and tokens per minute, in order.
const takeScript = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local levels = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i - 1])
  local perMs = tonumber(ARGV[2 * i]) / 60000
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * perMs)
  levels[i] = tokens
  if tokens < 1 then wait = math.max(wait, math.ceil((1 - tokens) / perMs)) end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i - 1])
  local perMs = tonumber(ARGV[2 * i]) / 60000
  redis.call('HSET', key, 'tokens', tostring(levels[i] - 1), 'at', tostring(now))
  -- A bucket left alone is full again after this long: then it need not exist.
  redis.call('PEXPIRE', key, math.ceil(burst / perMs))
end
return 0
`;

// Gives back the token an attempt took, up to each bucket's burst. KEYS: the buckets; ARGV: their bursts.
const giveBackScript = `
for i, key in ipairs(KEYS) do
  local tokens = tonumber(redis.call('HGET', key, 'tokens'))
  if tokens ~= nil then
    redis.call('HSET', key, 'tokens', tostring(math.min(tonumber(ARGV[i]), tokens + 1)))
  end
end
return 0
`;

/**
 * Throttles enrollment (issue 12, item 7): each attempt takes a token from the bucket of its client address
 * and, when the install token parses, from the bucket of the token's id, before the store is read; an empty
 * bucket refuses it with `TooManyEnrollmentsError`. A successful enrollment gives its tokens back, so the
 * buckets bound refused attempts (guesses, revoked or used-up tokens), not the machines a site enrolls behind
 * one address. If Redis cannot be asked, enrollment is refused as unavailable: unthrottled is what this closes.
 */
export class EnrollmentThrottle {
  private readonly opts: EnrollmentThrottleOptions;

  constructor(opts: EnrollmentThrottleOptions) {
    this.opts = opts;
  }

  /** The attempt's client address, from the socket's peer and `x-forwarded-for` as far as it is trusted. */
  clientAddress(peer: string | undefined, forwardedFor: string | readonly string[] | undefined): string {
    return clientAddress(peer, forwardedFor, this.opts.trustedProxies);
  }

  /** Runs `enroll` if both buckets hold a token; its refusals keep the tokens taken. */
  async attempt<T>(address: string, installToken: string, enroll: () => Promise<T>): Promise<T> {
    const { perAddress, perInstallToken, keyPrefix } = this.opts;
    const buckets = [{ key: `${keyPrefix}:address:${addressBucketName(address)}`, ...perAddress }];
    const tokenId = parseSecretPair(installToken)?.id;
    if (tokenId !== undefined)
      buckets.push({ key: `${keyPrefix}:install-token:${tokenId}`, ...perInstallToken });
    const keys = buckets.map((bucket) => bucket.key);

    let waitMs: number;
    try {
      waitMs = Number(
        await this.opts.redis.eval(
          takeScript,
          keys.length,
          ...keys,
          ...buckets.flatMap((bucket) => [bucket.burst, bucket.perMinute]),
        ),
      );
    } catch (error) {
      throw new UnavailableError('enrollment cannot be accepted right now, retry later', { cause: error });
    }
    if (waitMs > 0) throw new TooManyEnrollmentsError(Math.max(1, Math.ceil(waitMs / 1000)));

    const enrolled = await enroll();
    this.opts.redis
      .eval(giveBackScript, keys.length, ...keys, ...buckets.map((bucket) => bucket.burst))
      .catch((error: unknown) => {
        // The attempt keeps its token: a little less room for this address until the bucket refills.
        this.opts.logger.warn({ err: error }, 'enrollment throttle token not given back');
      });
    return enrolled;
  }
}
