import { hostname } from 'node:os';
import { duration, loadConfig, port, secretKey, serviceConfig, serviceEnv, z } from '@converge/config';

const positiveInt = z.coerce.number().int().min(1);

const env = serviceEnv.extend({
  // Agents have their own listeners, apart from the REST API, so agent traffic gets its own load balancer.
  AGENT_PORT: port().default(8114),
  AGENT_GRPC_PORT: port().default(8124),
  // Names this replica in presence and on its pub/sub channel; `|` is the presence field separator.
  REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,200}$/, 'must be letters, digits, . _ : - (at most 200)')
    .default(`${hostname()}-${String(process.pid)}`),
  HEARTBEAT_INTERVAL: duration().default(30_000),
  // New connections admitted per second and how many may come at once; the rest wait their turn. A connection
  // costs a replica about 0.45 ms of CPU (bench:gateway, storm of 15,000), so 2,000 a second fit in one core.
  ADMISSION_RATE: positiveInt.default(2000),
  ADMISSION_BURST: positiveInt.default(2000),
  ADMISSION_MAX_WAIT: duration().default(10_000),
  ADMISSION_MAX_QUEUE: positiveInt.default(20_000),
  // Enrollment: a refused attempt uses up a token of its client address's bucket and of its install token id's
  // (in Redis, shared by every replica); an empty bucket answers 429 before the store is read. A successful
  // enrollment gives its tokens back, so a site enrolling many machines behind one address is not held up.
  ENROLLMENT_ADDRESS_BURST: positiveInt.default(20),
  ENROLLMENT_ADDRESS_PER_MINUTE: positiveInt.default(60),
  ENROLLMENT_TOKEN_BURST: positiveInt.default(20),
  ENROLLMENT_TOKEN_PER_MINUTE: positiveInt.default(60),
  // Reverse proxies in front of the agent listeners that append the client's address to x-forwarded-for. 0
  // (agents reach the gateway directly or through a TCP load balancer) trusts no such header.
  AGENT_TRUSTED_PROXIES: z.coerce.number().int().min(0).max(10).default(0),
  MAX_FRAME_BYTES: positiveInt.default(1024 * 1024),
  // Bytes queued for one agent beyond which it counts as not reading, and is dropped.
  SEND_BUFFER_LIMIT: positiveInt.default(4 * 1024 * 1024),
  // Credentials a replica holds in process, and for how long before reading them from Redis again (which
  // bounds how long a revocation this replica missed could go unnoticed; revocations are pushed at once).
  CREDENTIAL_CACHE_SIZE: positiveInt.default(200_000),
  CREDENTIAL_CACHE_TTL: duration().default(600_000),
  PRESENCE_FLUSH_INTERVAL: duration().default(250),
  REPLICA_LEASE_TTL: duration().default(5_000),
  JANITOR_INTERVAL: duration().default(2_000),
  // A command that waited longer than this to be delivered is answered `undeliverable` rather than run: a new
  // command group reads the topic from its beginning (so that no partition starts past a command sent while
  // its partitions moved), and a command retained there for days must not run on an agent. Sessions send a
  // command again, with a new request time, when its agent connects.
  COMMAND_MAX_AGE: duration().default(600_000),
  // The key of the tags of command ids, shared with the sessions service (packages/contracts command-ids.ts).
  COMMAND_ID_KEY: secretKey(),
  // Opens the secret parameters deployments sealed into commands, just before they are written to the agent.
  // Deployments holds the same key; the sessions service, which carries the commands, must not.
  COMMAND_SECRETS_KEY: secretKey(),
  // How long a replica waits for another replica to acknowledge a forwarded command.
  FORWARD_ACK_TIMEOUT: duration().default(2_000),
  // Drain: Drain frames are spread over at most DRAIN_SPREAD; agents reconnect after up to DRAIN_RECONNECT_MAX.
  DRAIN_SPREAD: duration().default(10_000),
  DRAIN_RECONNECT_MAX: duration().default(10_000),
  // Kept from the shutdown deadline for closing what remains and clearing presence.
  DRAIN_MARGIN: duration().default(3_000),
  // Overridable so that test runs sharing one broker and one Redis never see each other's gateways.
  COMMANDS_GROUP_ID: z.string().min(1).default('agent-gateway'),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._:-]+$/, 'must be letters, digits, . _ : -')
    .default('gateway'),
});

export type GatewayConfig = ReturnType<typeof toConfig>;

function toConfig(parsed: z.infer<typeof env>) {
  return {
    ...serviceConfig(parsed),
    agents: {
      host: parsed.HOST,
      port: parsed.AGENT_PORT,
      grpcPort: parsed.AGENT_GRPC_PORT,
      heartbeatIntervalMs: parsed.HEARTBEAT_INTERVAL,
      // Docs/agent-connection.md: no frame for 2.5 × the heartbeat interval closes the connection.
      idleTimeoutMs: Math.round(parsed.HEARTBEAT_INTERVAL * 2.5),
      helloTimeoutMs: 10_000,
      maxFrameBytes: parsed.MAX_FRAME_BYTES,
      sendBufferLimit: parsed.SEND_BUFFER_LIMIT,
    },
    credentialCache: {
      maxEntries: parsed.CREDENTIAL_CACHE_SIZE,
      ttlMs: parsed.CREDENTIAL_CACHE_TTL,
    },
    admission: {
      ratePerSecond: parsed.ADMISSION_RATE,
      burst: parsed.ADMISSION_BURST,
      maxWaitMs: parsed.ADMISSION_MAX_WAIT,
      maxQueue: parsed.ADMISSION_MAX_QUEUE,
    },
    enrollment: {
      perAddress: { burst: parsed.ENROLLMENT_ADDRESS_BURST, perMinute: parsed.ENROLLMENT_ADDRESS_PER_MINUTE },
      perInstallToken: {
        burst: parsed.ENROLLMENT_TOKEN_BURST,
        perMinute: parsed.ENROLLMENT_TOKEN_PER_MINUTE,
      },
      trustedProxies: parsed.AGENT_TRUSTED_PROXIES,
    },
    replica: {
      id: parsed.REPLICA_ID,
      leaseTtlMs: parsed.REPLICA_LEASE_TTL,
      presenceFlushIntervalMs: parsed.PRESENCE_FLUSH_INTERVAL,
      janitorIntervalMs: parsed.JANITOR_INTERVAL,
      forwardAckTimeoutMs: parsed.FORWARD_ACK_TIMEOUT,
      redisKeyPrefix: parsed.REDIS_KEY_PREFIX,
    },
    drain: {
      spreadMs: parsed.DRAIN_SPREAD,
      reconnectMaxMs: parsed.DRAIN_RECONNECT_MAX,
      marginMs: parsed.DRAIN_MARGIN,
    },
    commandsGroupId: parsed.COMMANDS_GROUP_ID,
    commandMaxAgeMs: parsed.COMMAND_MAX_AGE,
    commandIdKey: parsed.COMMAND_ID_KEY,
    commandSecretsKey: parsed.COMMAND_SECRETS_KEY,
  };
}

/** The agent gateway's environment: the shared service variables plus its listeners, presence and drain. */
export const config: GatewayConfig = loadConfig(env.transform(toConfig));
