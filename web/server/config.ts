import { loadConfig, logLevel, port, url, z } from '@converge/config';
import type { ApiService } from './api-services.ts';

/** 32 bytes, base64: the AES-256-GCM key the session cookie is sealed with. */
const sessionSecret = z
  .string()
  .transform((text) => Buffer.from(text, 'base64'))
  .refine((key) => key.length === 32, {
    error: 'must be 32 bytes, base64-encoded (openssl rand -base64 32)',
  });

const serviceUrl = () => url(['http', 'https']).transform((text) => new URL(text.replace(/\/$/, '')));

const webEnv = z
  .object({
    // Loopback by default so a dashboard started by hand is not exposed; the chart sets 0.0.0.0.
    HOST: z.string().default('127.0.0.1'),
    // 5173: the port the development OIDC provider's dashboard client redirects to.
    PORT: port().default(5173),
    // The origin browsers and partners use (scheme://host[:port]); sign-in redirects come back to it.
    PUBLIC_URL: url(['http', 'https']).optional(),
    LOG_LEVEL: logLevel().default('info'),
    OIDC_ISSUER: url(['http', 'https']),
    OIDC_CLIENT_ID: z.string().min(1),
    // Only for a confidential client (Entra ID web app, Keycloak confidential); PKCE is used either way.
    OIDC_CLIENT_SECRET: z.string().min(1).optional(),
    // The API's delegated scope (Entra: `api://<app id>/access_as_user`).
    OIDC_SCOPE: z.string().min(1).default('access_as_user'),
    // RFC 8707 resource indicator for providers that want one (the development provider defaults to it).
    OIDC_RESOURCE: z.string().min(1).optional(),
    // No default: a key that ships with the code protects nothing.
    SESSION_SECRET: sessionSecret,
    // How long a sign-in lasts without activity; the access token itself is refreshed while it does.
    SESSION_LIFETIME: z.coerce
      .number()
      .int()
      .min(300)
      .default(12 * 60 * 60),
    IDENTITY_URL: serviceUrl(),
    DEPLOYMENTS_URL: serviceUrl(),
    SESSIONS_URL: serviceUrl(),
    AGENT_GATEWAY_URL: serviceUrl(),
    SYNC_URL: serviceUrl(),
  })
  .transform((env) => {
    const publicUrl = new URL(env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`);
    const upstreams: Record<ApiService, URL> = {
      identity: env.IDENTITY_URL,
      deployments: env.DEPLOYMENTS_URL,
      sessions: env.SESSIONS_URL,
      'agent-gateway': env.AGENT_GATEWAY_URL,
      sync: env.SYNC_URL,
    };
    return {
      http: { host: env.HOST, port: env.PORT },
      publicUrl,
      logLevel: env.LOG_LEVEL,
      oidc: {
        issuer: env.OIDC_ISSUER,
        clientId: env.OIDC_CLIENT_ID,
        clientSecret: env.OIDC_CLIENT_SECRET,
        scope: env.OIDC_SCOPE,
        resource: env.OIDC_RESOURCE,
      },
      session: {
        key: env.SESSION_SECRET,
        lifetimeSeconds: env.SESSION_LIFETIME,
        secureCookie: publicUrl.protocol === 'https:',
      },
      upstreams,
    };
  });

export type WebConfig = z.infer<typeof webEnv>;

let loaded: WebConfig | undefined;

/**
 * The dashboard's environment, parsed on first use rather than at import: `vite build` imports server modules
 * to analyse them, without the environment.
 */
export function webConfig(): WebConfig {
  return (loaded ??= loadConfig(webEnv));
}
