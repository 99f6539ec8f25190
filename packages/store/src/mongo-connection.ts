import type { Logger } from '@converge/telemetry';
import mongoose from 'mongoose';

export interface ConnectMongoOptions {
  uri: string;
  dbName: string;
  logger: Logger;
  /** How long to wait for a reachable server before an operation fails; short so `/readyz` and start-up fail fast. */
  serverSelectionTimeoutMs?: number;
}

async function open(
  opts: ConnectMongoOptions,
  maxPoolSize: number | undefined,
): Promise<mongoose.Connection> {
  const conn = mongoose.createConnection(opts.uri, {
    dbName: opts.dbName,
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMs ?? 5000,
    // Models declare their indexes (each with its reason); building them at start keeps every store in step.
    autoIndex: true,
    autoCreate: true,
    ...(maxPoolSize === undefined ? {} : { maxPoolSize }),
  });
  try {
    return await conn.asPromise();
  } catch (error) {
    await conn.close().catch(() => undefined);
    throw error;
  }
}

/** Connections opened on FerretDB, which reads by index only for a filter that is nothing but `{ _id }`. */
const ferretDbConnections = new WeakSet<mongoose.Connection>();

/**
 * True for a connection `connectMongo` opened on FerretDB: there a filter beyond `{ _id }` scans the whole
 * collection, and the connection's single socket serializes this process's operations (see `connectMongo`).
 */
export function isFerretDbConnection(conn: mongoose.Connection): boolean {
  return ferretDbConnections.has(conn);
}

async function isFerretDb(conn: mongoose.Connection): Promise<boolean> {
  const db = conn.db;
  if (db === undefined) return false;
  const buildInfo = await db.admin().command({ buildInfo: 1 });
  return 'ferretdbVersion' in buildInfo;
}

/**
 * Opens a connection to the service's own database; resolves once connected, rejects if the server is
 * unreachable.
 *
 * FerretDB v1 applies an update as read, modify, write back without isolation, so two concurrent updates of one
 * document over two sockets lose one of them, and a `version` or lease condition can pass twice (FerretDB issue
 * #3040). On FerretDB the connection therefore uses a single socket, which serializes this process's operations
 * and keeps single-document updates atomic within it; several processes writing the same documents need MongoDB.
 */
export async function connectMongo(opts: ConnectMongoOptions): Promise<mongoose.Connection> {
  const { dbName, logger } = opts;
  let conn = await open(opts, undefined);
  const ferretDb = await isFerretDb(conn).catch(async (error: unknown) => {
    await conn.close().catch(() => undefined);
    throw error;
  });
  if (ferretDb) {
    await conn.close();
    conn = await open(opts, 1);
    ferretDbConnections.add(conn);
  }
  // The URI may carry credentials, so only the database name and host are logged.
  logger.info({ dbName, host: conn.host, ferretDb }, 'mongo connected');
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
