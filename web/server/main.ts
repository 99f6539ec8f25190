// The dashboard's process: the one public origin (API proxy, API reference) in front of the SvelteKit app.
import type { AddressInfo } from 'node:net';
import { createLogger } from '@converge/telemetry';
import type { Middleware } from './api-proxy.ts';
import { webConfig } from './config.ts';
import { createEdge } from './edge.ts';

const config = webConfig();
const logger = createLogger({ service: 'web', level: config.logLevel });

// adapter-node's handler reads its origin from the environment when it is loaded.
process.env.ORIGIN = config.publicUrl.origin;
const { handler } = (await import(new URL('../build/handler.js', import.meta.url).href)) as {
  handler: Middleware;
};

const server = await createEdge({
  logger,
  upstreams: config.upstreams,
  publicOrigin: config.publicUrl.origin,
  sessionKey: config.session.key,
  app: handler,
});
server.listen(config.http.port, config.http.host, () => {
  const { port } = server.address() as AddressInfo;
  logger.info({ port, url: config.publicUrl.origin }, 'web ready to serve');
});

const stop = () => {
  logger.info('web stopping');
  server.close(() => process.exit(0));
  // Live views hold event streams open; close them once the listener stopped taking new connections.
  server.closeIdleConnections();
  setTimeout(() => {
    server.closeAllConnections();
  }, 2000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
