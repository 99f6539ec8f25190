import { STATUS_CODES } from 'node:http';
import type { RequestHandler } from 'express';
import * as openApiValidator from 'express-openapi-validator';
import { DomainError, NotFoundError, ValidationError } from '@converge/errors';

/** Validates requests (never responses) against the service's OpenAPI document. */
export function openApiValidation(openApiDocument: string): RequestHandler[] {
  return openApiValidator.middleware({
    apiSpec: openApiDocument,
    // Every failing field at once, so a form can mark them all; the JSON body limit bounds the work.
    validateRequests: { allErrors: true },
    validateResponses: false,
    // Authentication is done before validation, by the verifier, not by the document's security schemes.
    validateSecurity: false,
  });
}

type ValidatorError = InstanceType<(typeof openApiValidator.error)[keyof typeof openApiValidator.error]>;

const validatorErrorClasses = Object.values(openApiValidator.error);

function isValidatorError(error: unknown): error is ValidatorError {
  return validatorErrorClasses.some((errorClass) => error instanceof errorClass);
}

// body-parser's errors (http-errors): `expose` marks a message written for the client.
interface ClientHttpError {
  status: number;
  expose: true;
  type?: string;
  message: string;
}

function isClientHttpError(error: unknown): error is ClientHttpError {
  if (!(error instanceof Error)) return false;
  const { status, expose } = error as Partial<ClientHttpError>;
  return expose === true && typeof status === 'number' && status >= 400 && status < 500;
}

// A plain HTTP problem (405, 413, 415…) has no type of its own: RFC 9457 says `about:blank` then.
function httpStatusError(status: number, message: string): DomainError {
  return new DomainError({ status, title: STATUS_CODES[status] ?? 'Error', type: 'about:blank' }, message);
}

export interface MappedError {
  error: unknown;
  headers: Record<string, string>;
}

/** Turns the errors raised by the HTTP machinery (parsing, validation) into domain errors. */
export function fromHttpMachinery(error: unknown): MappedError {
  if (isValidatorError(error)) {
    const allow = error.headers?.Allow;
    const headers: Record<string, string> = allow === undefined ? {} : { allow };
    if (error.status === 400) {
      const fields = error.errors.map(({ path, message }) => ({ path, message }));
      return {
        error: new ValidationError('the request does not match the API description', fields),
        headers,
      };
    }
    if (error.status === 404) return { error: new NotFoundError(), headers };
    if (error.status < 500) return { error: httpStatusError(error.status, error.message), headers };
    return { error, headers };
  }
  if (isClientHttpError(error)) {
    const mapped =
      error.type === 'entity.parse.failed'
        ? new ValidationError('the request body is not valid JSON')
        : httpStatusError(error.status, error.message);
    return { error: mapped, headers: {} };
  }
  return { error, headers: {} };
}
