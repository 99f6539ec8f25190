import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin } from 'vite';

/** In `vite dev`, the edge (API proxy, API reference) answers before the dashboard, as in production. */
function edge(): Plugin {
  return {
    name: 'converge-edge',
    async configureServer(server) {
      const { createEdgeHandler } = await import('./server/edge.ts');
      const { webConfig } = await import('./server/config.ts');
      const { createLogger } = await import('@converge/telemetry');
      const config = webConfig();
      const handle = await createEdgeHandler({
        logger: createLogger({ service: 'web', level: config.logLevel }),
        upstreams: config.upstreams,
        publicOrigin: config.publicUrl.origin,
        sessionKey: config.session.key,
      });
      server.middlewares.use((req, res, next) => {
        handle(req, res, next);
      });
    },
  };
}

export default defineConfig(({ command }) => ({
  plugins: [...(command === 'serve' ? [edge()] : []), sveltekit()],
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
}));
