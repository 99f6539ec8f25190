/** An RFC 9457 problem as the services answer it (`@converge/errors`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  traceId?: string;
  errors?: { path: string; message: string }[];
}

/** The problem in an error answer's body, or one made from its status when the body is not a problem. */
export function problemOf(body: unknown, status: number): Problem {
  const candidate = body as Partial<Problem> | null | undefined;
  if (typeof candidate?.title === 'string' && typeof candidate.status === 'number') {
    return {
      type: candidate.type ?? 'about:blank',
      title: candidate.title,
      status: candidate.status,
      detail: candidate.detail ?? candidate.title,
      ...(candidate.instance === undefined ? {} : { instance: candidate.instance }),
      ...(candidate.traceId === undefined ? {} : { traceId: candidate.traceId }),
      ...(candidate.errors === undefined ? {} : { errors: candidate.errors }),
    };
  }
  return { type: 'about:blank', title: 'Error', status, detail: `The request failed (${status}).` };
}

/** Reads a problem from a failed fetch answer in the browser. */
export async function problemFromResponse(response: Response): Promise<Problem> {
  const body: unknown = await response.json().catch(() => undefined);
  return problemOf(body, response.status);
}
