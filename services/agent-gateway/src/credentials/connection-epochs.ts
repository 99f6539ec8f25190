import type { Redis } from 'ioredis';
import type { Logger } from '@converge/telemetry';
import type { ConnectionEpochRepository } from '../data-access/connection-epoch.repository.ts';
import { epochBaseAfterLoss } from '../domain/connection-epoch.ts';
import type { RedisKeys } from '../redis-keys.ts';
import { Batcher } from '../batcher.ts';

/** The epochs hash's base field; agent ids are letters, digits and `-`, so it never names an agent. */
const baseField = ':base';
const missingBase = 'NOEPOCHBASE';

/**
 * Takes the next epoch of each agent in one call: one above the last, and above both the hash's base (set
 * when Redis lost earlier epochs) and the agent's floor (the last epoch the store issued).
 */
const issueScript = `
local base = redis.call('HGET', KEYS[1], ARGV[1])
if not base then return redis.error_reply('${missingBase} the connection epochs have no base') end
base = tonumber(base)
local epochs = {}
for i = 2, #ARGV, 2 do
  local floor = math.max(base, tonumber(ARGV[i + 1]))
  local epoch = redis.call('HINCRBY', KEYS[1], ARGV[i], 1)
  if epoch <= floor then
    epoch = floor + 1
    redis.call('HSET', KEYS[1], ARGV[i], epoch)
  end
  epochs[#epochs + 1] = epoch
end
return epochs
`;

export interface ConnectionEpochsOptions {
  redis: Redis;
  keys: RedisKeys;
  issued: ConnectionEpochRepository;
  logger: Logger;
}

interface EpochRequest {
  agentId: string;
  floor: number;
}

/**
 * Connection epochs from a Redis hash (`HINCRBY`, batched: a storm of reconnects takes its epochs a few
 * hundred per round trip), so a late `disconnected` of an old connection is told apart from the end of the
 * current one without a store write per connection. Epochs must only grow, also across a Redis that lost its
 * data: the store remembers that epochs were issued, and an empty hash then continues above them.
 */
export class ConnectionEpochs {
  private readonly opts: ConnectionEpochsOptions;
  private readonly batcher: Batcher<EpochRequest, number>;

  constructor(opts: ConnectionEpochsOptions) {
    this.opts = opts;
    this.batcher = new Batcher({ maxBatch: 1_000, maxInFlight: 1, run: (requests) => this.issue(requests) });
  }

  /** Makes sure the hash has its base, then records (once) that this installation issues epochs. */
  async start(): Promise<void> {
    await this.ensureBase();
    await this.opts.issued.markIssued(new Date());
  }

  next(agentId: string, floor: number): Promise<number> {
    return this.batcher.submit({ agentId, floor });
  }

  /** The latest epoch of each agent, for the agent list (undefined: none issued from Redis yet). */
  async latest(agentIds: readonly string[]): Promise<(number | undefined)[]> {
    if (agentIds.length === 0) return [];
    const values = await this.opts.redis.hmget(this.opts.keys.epochs, ...agentIds);
    return values.map((value) => (value === null ? undefined : Number(value)));
  }

  private async issue(requests: EpochRequest[]): Promise<number[]> {
    try {
      return await this.run(requests);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith(missingBase)) throw error;
      await this.ensureBase();
      return this.run(requests);
    }
  }

  private async run(requests: EpochRequest[]): Promise<number[]> {
    const args = requests.flatMap((request) => [request.agentId, String(request.floor)]);
    return (await this.opts.redis.eval(
      issueScript,
      1,
      this.opts.keys.epochs,
      baseField,
      ...args,
    )) as number[];
  }

  /**
   * An epochs hash without a base is new, or Redis lost it. The store tells which: in a new installation
   * epochs start at 1; after a loss they continue above everything issued before. The first replica to set
   * the base wins; the others adopt it (HSETNX), so replicas starting together agree.
   */
  private async ensureBase(): Promise<void> {
    const { redis, keys } = this.opts;
    if ((await redis.hexists(keys.epochs, baseField)) === 1) return;
    const lost = await this.opts.issued.wereIssued();
    const base = lost ? epochBaseAfterLoss(Date.now()) : 0;
    if ((await redis.hsetnx(keys.epochs, baseField, base)) === 1 && lost) {
      this.opts.logger.warn({ base }, 'connection epochs were lost from Redis; they continue above the base');
    }
  }
}
