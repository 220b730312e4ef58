// Installs the Temporal SDK runtime once per process: its logs into the injector's JSON logs, its metrics to Prometheus.
import { DefaultLogger, LogLevel, Runtime } from '@temporalio/worker';
import type { Logger } from '../shared/logger';
import { createRepeatThrottle } from './repeat-throttle';

const SDK_LEVEL: Record<'debug' | 'info' | 'warn' | 'error', LogLevel> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

let installed = false;

export interface SdkRuntimeOptions {
  logger: Logger;
  level: keyof typeof SDK_LEVEL;
  /** host:port where the SDK serves its metrics at `/metrics` (Prometheus text format); undefined: no exporter. */
  metricsAddress?: string;
}

/**
 * Installs the SDK runtime once per process; later calls are no-ops (the SDK allows one install, and it must happen
 * before the first NativeConnection). Returns whether this call installed it.
 */
export function installSdkRuntime(options: SdkRuntimeOptions): boolean {
  if (installed) return false;
  installed = true;
  const { logger } = options;
  // The SDK's per-task warnings (TMPRL codes) once per minute each, with a count of the rest: see repeat-throttle.ts.
  const repeats = createRepeatThrottle({
    onSuppressed: (code, count, windowMs) =>
      logger.warn(`${count} more ${code} warnings in the last ${windowMs / 1000} s, not logged one by one`, { sdk: true, code, count }),
  });
  Runtime.install({
    logger: new DefaultLogger(SDK_LEVEL[options.level], (entry) => {
      const fields = { ...(entry.meta ?? {}), sdk: true };
      const message = entry.message;
      if (entry.level !== 'ERROR' && !repeats.admit(message)) return;
      if (entry.level === 'ERROR') logger.error(message, fields);
      else if (entry.level === 'WARN') logger.warn(message, fields);
      else if (entry.level === 'INFO') logger.info(message, fields);
      else logger.debug(message, fields);
    }),
    telemetryOptions: {
      // The SDK core's own lines (e.g. its per-task warnings) through this logger too, as JSON, not raw on stderr.
      // At most INFO: the core's DEBUG is a line per poll.
      logging: { filter: { core: options.level === 'debug' ? 'INFO' : SDK_LEVEL[options.level], other: 'ERROR' }, forward: {} },
      ...(options.metricsAddress
        ? // Seconds and `_total` suffixes: the Prometheus conventions dashboards expect.
          { metrics: { prometheus: { bindAddress: options.metricsAddress, countersTotalSuffix: true, useSecondsForDurations: true } } }
        : {}),
    },
  });
  if (options.metricsAddress) logger.info('Temporal SDK metrics exported', { url: `http://${options.metricsAddress}/metrics` });
  return true;
}

/** The SDK's logs only, no metrics exporter: tests and processes that serve no metrics. */
export function installSdkLogging(logger: Logger, level: keyof typeof SDK_LEVEL): void {
  installSdkRuntime({ logger, level });
}
