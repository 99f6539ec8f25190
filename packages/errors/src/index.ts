export {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  PartitionFencedError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
  type FieldError,
  type ProblemKind,
} from './domain-errors.ts';
export {
  problemContentType,
  toProblemDetails,
  type ProblemDetails,
  type ProblemDetailsOptions,
} from './problem-details.ts';
