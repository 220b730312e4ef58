// Typed adapter errors: a stable code and whether trying again later can help, so activities can classify them.

export type DockerErrorCode =
  | 'AGENT_NOT_FOUND'
  | 'CONTAINER_NOT_FOUND'
  | 'CONTAINER_NOT_RUNNING'
  | 'DOCKER_TIMEOUT'
  | 'DOCKER_UNAVAILABLE'
  | 'DOCKER_API_ERROR'
  | 'ARCHIVE_TOO_LARGE'
  | 'ARCHIVE_UNSAFE'
  | 'ARCHIVE_MALFORMED'
  | 'EXEC_FAILED'
  | 'EXEC_OUTPUT_TOO_LARGE'
  | 'INVALID_ARGUMENT'
  | 'ABORTED';

const RETRYABLE: Readonly<Record<DockerErrorCode, boolean>> = {
  AGENT_NOT_FOUND: false,
  CONTAINER_NOT_FOUND: false,
  CONTAINER_NOT_RUNNING: false,
  DOCKER_TIMEOUT: true,
  DOCKER_UNAVAILABLE: true,
  DOCKER_API_ERROR: true,
  ARCHIVE_TOO_LARGE: false,
  ARCHIVE_UNSAFE: false,
  ARCHIVE_MALFORMED: false,
  EXEC_FAILED: false,
  EXEC_OUTPUT_TOO_LARGE: false,
  INVALID_ARGUMENT: false,
  ABORTED: false,
};

export class DockerAdapterError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly code: DockerErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DockerAdapterError';
    this.retryable = options.retryable ?? RETRYABLE[code];
  }
}

export function isDockerAdapterError(err: unknown, code?: DockerErrorCode): err is DockerAdapterError {
  return err instanceof DockerAdapterError && (code === undefined || err.code === code);
}
