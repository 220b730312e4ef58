// Structured logs: one JSON object per line on stderr, carrying whatever ids the caller binds (injectionId, agentId).
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export function createLogger(options: { level: LogLevel; component: string; write?: (line: string) => void; bound?: LogFields }): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const bound = { component: options.component, ...options.bound };
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LEVEL_RANK[level] < LEVEL_RANK[options.level]) return;
    write(JSON.stringify({ ts: new Date().toISOString(), level, msg: message, ...bound, ...fields }, errorReplacer));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, write, bound: { ...bound, ...fields } }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
