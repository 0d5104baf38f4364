/**
 * Service errors as the real KVS endpoints name them. The error name travels in the
 * `x-amzn-ErrorType` header and in the body, the status code is the one the service model gives.
 */
export class ServiceError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    /** The signaling-plane shapes InvalidClient and SessionExpired spell the key `message`. */
    readonly lowercaseMessageKey = false,
  ) {
    super(message);
    this.name = type;
  }
}

export const invalidArgument = (m: string): ServiceError =>
  new ServiceError('InvalidArgumentException', 400, m);
export const notFound = (m = 'The requested channel is not found or not active.'): ServiceError =>
  new ServiceError('ResourceNotFoundException', 404, m);
export const resourceInUse = (m: string): ServiceError =>
  new ServiceError('ResourceInUseException', 400, m);
export const versionMismatch = (m: string): ServiceError =>
  new ServiceError('VersionMismatchException', 400, m);
export const clientLimit = (m: string): ServiceError =>
  new ServiceError('ClientLimitExceededException', 400, m);
export const accountChannelLimit = (m: string): ServiceError =>
  new ServiceError('AccountChannelLimitExceededException', 400, m);
export const tagsLimit = (m: string): ServiceError =>
  new ServiceError('TagsPerResourceExceededLimitException', 400, m);
export const accessDenied = (m: string, status = 401): ServiceError =>
  new ServiceError('AccessDeniedException', status, m);
export const serialization = (m: string): ServiceError =>
  new ServiceError('SerializationException', 400, m);
