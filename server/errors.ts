/** Errors that carry their HTTP status; one middleware turns them into `{error:{code,message,details}}`. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const invalid = (message: string, details?: unknown) => new AppError(400, 'invalid', message, details);
export const unauthorized = (message = 'missing or invalid token') => new AppError(401, 'unauthorized', message);
export const forbidden = (message: string, details?: unknown) => new AppError(403, 'forbidden', message, details);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, details?: unknown) => new AppError(409, 'conflict', message, details);
export const tooLarge = (message: string) => new AppError(413, 'too_large', message);
export const locked = (message: string, details?: unknown) => new AppError(423, 'locked', message, details);
export const tooMany = (message: string, retryAfterSeconds: number) =>
  new AppError(429, 'too_many_requests', message, { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });
