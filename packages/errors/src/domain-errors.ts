const problemTypeBase = 'https://converge.dev/problems/';

export interface FieldError {
  /** Where the problem is, e.g. `/body/name` or `query.limit`. */
  path: string;
  message: string;
}

/** What a problem is: its HTTP status, a short title and a stable type URI. */
export interface ProblemKind {
  status: number;
  title: string;
  type: string;
}

function problemKind(status: number, title: string, slug: string): ProblemKind {
  return { status, title, type: `${problemTypeBase}${slug}` };
}

/**
 * An error the domain throws on purpose. Its message is written for the caller and is sent as the
 * problem's `detail`, so it must never carry secrets or internals.
 */
export class DomainError extends Error {
  readonly status: number;
  readonly title: string;
  readonly type: string;

  constructor(kind: ProblemKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.status = kind.status;
    this.title = kind.title;
    this.type = kind.type;
  }
}

export class ValidationError extends DomainError {
  readonly errors: FieldError[];

  constructor(message: string, errors: FieldError[] = [], options?: ErrorOptions) {
    super(problemKind(400, 'Bad Request', 'validation'), message, options);
    this.errors = errors;
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'authentication required', options?: ErrorOptions) {
    super(problemKind(401, 'Unauthorized', 'unauthorized'), message, options);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'not allowed', options?: ErrorOptions) {
    super(problemKind(403, 'Forbidden', 'forbidden'), message, options);
  }
}

export class NotFoundError extends DomainError {
  constructor(message = 'not found', options?: ErrorOptions) {
    super(problemKind(404, 'Not Found', 'not-found'), message, options);
  }
}

export class ConflictError extends DomainError {
  constructor(message = 'conflict', options?: ErrorOptions) {
    super(problemKind(409, 'Conflict', 'conflict'), message, options);
  }
}

export class UnavailableError extends DomainError {
  constructor(message = 'temporarily unavailable', options?: ErrorOptions) {
    super(problemKind(503, 'Service Unavailable', 'unavailable'), message, options);
  }
}

export const internalProblem = problemKind(500, 'Internal Server Error', 'internal');

/**
 * A partition's owner found a newer fencing token on the partition: another member owns it now, and nothing
 * this one wrote after losing it was stored (docs/architecture.md §9). Not a caller's error: the consumer that
 * sees it stops working on the partition until the group assigns it again.
 */
export class PartitionFencedError extends Error {
  readonly partition: number;

  constructor(partition: number, message = `partition ${partition} is owned by a newer fencing token`) {
    super(message);
    this.name = 'PartitionFencedError';
    this.partition = partition;
  }
}
