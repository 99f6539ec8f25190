export { createHttpApp, type HttpAppOptions } from './http-app.ts';
export { startHttpServer, type HttpServer, type HttpServerOptions } from './http-server.ts';
export { principalOf } from './authentication.ts';
export type { CheckState, ReadinessCheck } from './readiness.ts';
