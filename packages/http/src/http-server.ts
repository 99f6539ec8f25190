import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';

export interface HttpServer {
  port: number;
  /**
   * Stops accepting connections, lets in-flight requests finish and closes idle keep-alive
   * connections; whatever is still open at the deadline is cut off.
   */
  close(deadlineMs?: number): Promise<void>;
}

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

const defaultCloseDeadlineMs = 10_000;

export async function startHttpServer(app: express.Express, opts: HttpServerOptions): Promise<HttpServer> {
  const server = createServer(app);
  const inFlight = new Set<ServerResponse>();
  let closing: Promise<void> | undefined;

  server.on('request', (_req, res: ServerResponse) => {
    inFlight.add(res);
    if (closing) res.shouldKeepAlive = false;
    res.once('close', () => {
      inFlight.delete(res);
      // A keep-alive connection becomes idle when its last response is done; while closing, end it then.
      if (closing) server.closeIdleConnections();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    close: (deadlineMs = defaultCloseDeadlineMs) => {
      closing ??= new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => {
          server.closeAllConnections();
        }, deadlineMs);
        server.close((error) => {
          clearTimeout(deadline);
          if (error) reject(error);
          else resolve();
        });
        // Responses still being written tell their clients not to reuse the connection.
        for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
