import type { Role } from '@converge/auth';
import { devClients, devUsers, testUserGrantType } from '@converge/dev-oidc';
import { stack } from './stack.ts';

function tokenRequest(role: Role | 'partner'): {
  client: { clientId: string; clientSecret: string };
  body: URLSearchParams;
} {
  if (role === 'partner') {
    return { client: devClients.partner, body: new URLSearchParams({ grant_type: 'client_credentials' }) };
  }
  return {
    client: devClients.test,
    body: new URLSearchParams({ grant_type: testUserGrantType, username: devUsers[role].sub }),
  };
}

/**
 * A real access token from the dev OIDC provider: the seeded user holding `role` (through the
 * dev-only test-user grant), or the partner client (client credentials).
 */
export async function getAccessToken(role: Role | 'partner'): Promise<string> {
  const { client, body } = tokenRequest(role);
  const credentials = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
  const response = await fetch(`${stack.oidcIssuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${credentials}` },
    body,
    signal: AbortSignal.timeout(5000),
  });
  const answer = (await response.json()) as { access_token?: unknown; error_description?: unknown };
  if (!response.ok || typeof answer.access_token !== 'string') {
    throw new Error(
      `token request for ${role} failed (${response.status}): ${String(answer.error_description)}`,
    );
  }
  return answer.access_token;
}
