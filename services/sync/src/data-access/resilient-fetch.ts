import { setTimeout as sleep } from 'node:timers/promises';
import { retryDelayMs, type RetryPolicy } from '../domain/throttling.ts';

/** A remote API refused or failed; the message names the API, the path and the status, never a secret. */
export class RemoteApiError extends Error {
  readonly status: number | 'network-error';

  constructor(api: string, url: string, status: number | 'network-error', detail = '') {
    super(`${api} ${new URL(url).pathname} failed: ${status}${detail === '' ? '' : ` (${detail})`}`);
    this.name = 'RemoteApiError';
    this.status = status;
  }
}

export interface RemoteApi {
  /** The API's name in errors and logs. */
  name: string;
  policy: RetryPolicy;
  /** Deadline of one attempt. */
  timeoutMs: number;
}

export interface JsonResponse {
  body: unknown;
  headers: Headers;
}

// The error body of a refused call: Graph's `error.code`, ConnectWise's `code`. Short, never the request.
async function errorCode(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown } | string; code?: unknown };
    const code = typeof body.error === 'object' ? body.error.code : (body.error ?? body.code);
    return typeof code === 'string' ? code.slice(0, 100) : '';
  } catch {
    return '';
  }
}

/**
 * Calls a remote JSON API with a deadline per attempt, waiting out throttling (`Retry-After`) and retrying
 * 5xx and network failures with exponential back-off (`retryDelayMs`); only GETs and token requests go
 * through here, so every retry is safe.
 */
export async function fetchJson(api: RemoteApi, url: string, init: RequestInit = {}): Promise<JsonResponse> {
  for (let attempt = 1; ; attempt++) {
    let status: number | 'network-error';
    let retryAfter: string | null = null;
    let detail = '';
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(api.timeoutMs) });
      if (response.ok) return { body: await response.json(), headers: response.headers };
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      detail = await errorCode(response);
    } catch (error) {
      status = 'network-error';
      detail = error instanceof Error ? error.name : '';
    }
    const delay = retryDelayMs(status, retryAfter, attempt, api.policy, new Date());
    if (delay === null) throw new RemoteApiError(api.name, url, status, detail);
    await sleep(delay);
  }
}
