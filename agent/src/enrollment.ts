import {
  EnrollRequestSchema,
  EnrollResponseSchema,
  create,
  fromBinary,
  toBinary,
  type AgentFacts,
} from '@converge/proto';

export class EnrollmentError extends Error {}

const protobufType = 'application/x-protobuf';

/** The gateway URL for `path` under the agent server's base URL (which may itself carry a path prefix). */
export function gatewayUrl(server: string, path: string): URL {
  const base = new URL(server);
  base.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
  return base;
}

/**
 * Exchanges the tenant's install token for this agent's credential: `POST <server>/agent/v1/enroll` with a
 * protobuf EnrollRequest (docs/agent-connection.md, "Enrollment").
 */
export async function enroll(options: {
  server: string;
  installToken: string;
  facts: AgentFacts;
  timeoutMs?: number;
}): Promise<{ agentId: string; credentialSecret: string }> {
  const url = gatewayUrl(options.server, '/agent/v1/enroll');
  const body = toBinary(
    EnrollRequestSchema,
    create(EnrollRequestSchema, { installToken: options.installToken, facts: options.facts }),
  );
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': protobufType, accept: `${protobufType}, application/problem+json` },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (error) {
    throw new EnrollmentError(
      `could not reach ${url.origin}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!response.ok) {
    const detail = await problemDetail(response);
    if (response.status === 401) {
      throw new EnrollmentError(
        `the install token was refused (unknown, revoked, expired or used up)${detail}`,
      );
    }
    throw new EnrollmentError(`enrollment failed with HTTP ${response.status}${detail}`);
  }
  const answer = fromBinary(EnrollResponseSchema, new Uint8Array(await response.arrayBuffer()));
  if (!answer.agentId || !answer.credentialSecret) {
    throw new EnrollmentError('the gateway answered without an agent id or credential');
  }
  return { agentId: answer.agentId, credentialSecret: answer.credentialSecret };
}

async function problemDetail(response: Response): Promise<string> {
  try {
    const problem = (await response.json()) as { detail?: unknown; title?: unknown };
    const text = typeof problem.detail === 'string' ? problem.detail : problem.title;
    return typeof text === 'string' ? `: ${text}` : '';
  } catch {
    return '';
  }
}
