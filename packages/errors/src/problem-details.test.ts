import { describe, expect, it } from '@jest/globals';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from './domain-errors.ts';
import { toProblemDetails } from './problem-details.ts';

const instance = '/api/v1/computers/42';

describe('toProblemDetails', () => {
  it.each<[DomainError, number, string]>([
    [new ValidationError('bad input'), 400, 'https://converge.dev/problems/validation'],
    [new UnauthorizedError(), 401, 'https://converge.dev/problems/unauthorized'],
    [new ForbiddenError(), 403, 'https://converge.dev/problems/forbidden'],
    [new NotFoundError('computer 42 does not exist'), 404, 'https://converge.dev/problems/not-found'],
    [new ConflictError(), 409, 'https://converge.dev/problems/conflict'],
    [new UnavailableError(), 503, 'https://converge.dev/problems/unavailable'],
  ])('maps %p to its status and problem type', (error, status, type) => {
    const problem = toProblemDetails(error, { instance, traceId: 'abc' });

    expect(problem).toMatchObject({ status, type, detail: error.message, instance, traceId: 'abc' });
    expect(problem.title).toBe(error.title);
  });

  it('lists the failing fields of a validation error', () => {
    const errors = [{ path: '/body/name', message: 'must be a string' }];

    const problem = toProblemDetails(new ValidationError('request is invalid', errors), { instance });

    expect(problem.errors).toEqual(errors);
  });

  it('answers an unexpected error with a generic 500 that does not reveal its message or stack', () => {
    const problem = toProblemDetails(new Error('connection to mongodb://admin:hunter2@db failed'), {
      instance,
      traceId: 'abc',
    });

    expect(problem).toMatchObject({
      status: 500,
      type: 'https://converge.dev/problems/internal',
      traceId: 'abc',
    });
    expect(JSON.stringify(problem)).not.toMatch(/hunter2|mongodb|at /);
  });

  it('treats thrown non-errors as unexpected', () => {
    expect(toProblemDetails('boom', { instance }).status).toBe(500);
    expect(toProblemDetails(undefined, { instance }).status).toBe(500);
  });

  it('omits the trace id when there is none', () => {
    expect(toProblemDetails(new NotFoundError(), { instance })).not.toHaveProperty('traceId');
  });
});

describe('DomainError', () => {
  it('is an Error named after its class, so logs and instanceof checks read naturally', () => {
    const error = new ConflictError('deployment changed meanwhile');

    expect(error).toBeInstanceOf(DomainError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConflictError');
  });

  it('keeps the cause for the logs', () => {
    const cause = new Error('socket hang up');

    expect(new UnavailableError('directory is unavailable', { cause }).cause).toBe(cause);
  });
});
