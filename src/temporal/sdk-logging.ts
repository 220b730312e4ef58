// Routes the Temporal SDK's own logs into the injector's structured JSON logs, at the configured level.
import { DefaultLogger, LogLevel, Runtime } from '@temporalio/worker';
import type { Logger } from '../shared/logger';

const SDK_LEVEL: Record<'debug' | 'info' | 'warn' | 'error', LogLevel> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

let installed = false;

/** Installs the SDK runtime once per process; later calls are no-ops (the SDK allows one install). */
export function installSdkLogging(logger: Logger, level: keyof typeof SDK_LEVEL): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new DefaultLogger(SDK_LEVEL[level], (entry) => {
      const fields = { ...(entry.meta ?? {}), sdk: true };
      const message = entry.message;
      if (entry.level === 'ERROR') logger.error(message, fields);
      else if (entry.level === 'WARN') logger.warn(message, fields);
      else if (entry.level === 'INFO') logger.info(message, fields);
      else logger.debug(message, fields);
    }),
  });
}
