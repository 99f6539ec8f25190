import { getMeter, type Logger } from '@converge/telemetry';
import mongoose from 'mongoose';

export interface ConnectMongoOptions {
  uri: string;
  dbName: string;
  logger: Logger;
  /** How long to wait for a reachable server before an operation fails; short so `/readyz` and start-up fail fast. */
  serverSelectionTimeoutMs?: number;
}

/** Commands sent to the database server by this process, by connection: what benches divide by their work. */
const operationCounts = new WeakMap<mongoose.Connection, Map<string, number>>();

/**
 * The commands this connection has sent so far (`find`, `update`, `insert`, ...; a `bulkWrite` of a hundred
 * statements is one `update`), counted by the driver, with their total under `total`.
 */
export function storeOperations(conn: mongoose.Connection): Record<string, number> {
  const counts = operationCounts.get(conn) ?? new Map<string, number>();
  let total = 0;
  for (const count of counts.values()) total += count;
  return { ...Object.fromEntries(counts), total };
}

/** Commands the driver runs for itself, not for the service's data. */
const monitoringCommands = new Set(['hello', 'ismaster', 'isMaster', 'ping', 'buildInfo', 'endSessions']);

function countOperations(conn: mongoose.Connection, dbName: string): void {
  // Made with the connection, not when the module loads: a counter made before the service started its telemetry
  // (as importing this package does) belongs to no meter provider and is never exported.
  const serverOperations = getMeter('@converge/store').createCounter('store_operations', {
    description: 'Commands sent to the database server, counted by the driver (a bulk write is one)',
  });
  const counts = new Map<string, number>();
  operationCounts.set(conn, counts);
  conn.getClient().on('commandStarted', (event: { commandName: string }) => {
    if (monitoringCommands.has(event.commandName)) return;
    counts.set(event.commandName, (counts.get(event.commandName) ?? 0) + 1);
    serverOperations.add(1, { database: dbName, command: event.commandName });
  });
}

/** Opens a connection to the service's own database; resolves once connected, rejects if the server is unreachable. */
export async function connectMongo(opts: ConnectMongoOptions): Promise<mongoose.Connection> {
  const { dbName, logger } = opts;
  const conn = mongoose.createConnection(opts.uri, {
    dbName,
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMs ?? 5000,
    // Models declare their indexes (each with its reason); building them at start keeps every store in step.
    autoIndex: true,
    autoCreate: true,
    // The driver reports each command it sends; `countOperations` counts them.
    monitorCommands: true,
  });
  countOperations(conn, dbName);
  try {
    await conn.asPromise();
  } catch (error) {
    await conn.close().catch(() => undefined);
    throw error;
  }
  // The URI may carry credentials, so only the database name and host are logged.
  logger.info({ dbName, host: conn.host }, 'mongo connected');
  conn.on('disconnected', () => {
    logger.warn({ dbName }, 'mongo disconnected');
  });
  conn.on('reconnected', () => {
    logger.info({ dbName }, 'mongo reconnected');
  });
  conn.on('error', (error: unknown) => {
    logger.error({ dbName, err: error }, 'mongo connection error');
  });
  return conn;
}

/** A `/readyz` probe: true when the server answers a ping within `timeoutMs`. */
export function mongoReadiness(conn: mongoose.Connection, timeoutMs = 2000): () => Promise<boolean> {
  return async () => {
    const db = conn.db;
    if (db === undefined) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, false);
    });
    try {
      return await Promise.race([db.command({ ping: 1 }).then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
}
