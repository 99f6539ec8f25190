export {
  bool,
  csv,
  duration,
  encryptionKey,
  logLevel,
  logLevels,
  parseDuration,
  port,
  url,
  type LogLevel,
} from './env-fields.ts';
export { ConfigError, loadConfig, type ConfigIssue } from './load-config.ts';
export { serviceConfig, serviceEnv, type ServiceConfig, type ServiceEnv } from './service-env.ts';
// Services declare their schema with the same zod instance this package parses with.
export { z } from 'zod';
