import { DomainError, internalProblem, ValidationError, type FieldError } from './domain-errors.ts';

/** An RFC 9457 problem, extended with the trace id to quote when reporting it and per-field errors. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  traceId?: string;
  errors?: FieldError[];
}

export interface ProblemDetailsOptions {
  /** The request path the problem occurred on. */
  instance: string;
  traceId?: string;
}

export const problemContentType = 'application/problem+json';

/**
 * Maps any thrown value to the body a caller may see. Only `DomainError`s speak for themselves;
 * anything else is an unexpected failure whose message and stack could leak internals.
 */
export function toProblemDetails(err: unknown, opts: ProblemDetailsOptions): ProblemDetails {
  const trace = opts.traceId === undefined ? {} : { traceId: opts.traceId };
  if (!(err instanceof DomainError)) {
    return {
      ...internalProblem,
      detail: 'An unexpected error occurred; quote the trace id when reporting it.',
      instance: opts.instance,
      ...trace,
    };
  }
  return {
    type: err.type,
    title: err.title,
    status: err.status,
    detail: err.message,
    instance: opts.instance,
    ...trace,
    ...(err instanceof ValidationError ? { errors: err.errors } : {}),
  };
}
