// A warning the SDK writes once per workflow task (TMPRL1104, "Workflow task duration exceeded 5 seconds") would
// fill the log on a busy host: one line per agent. Each code is logged in full once per window; the rest are counted,
// and the count is logged when the window ends.

/** The Temporal SDK's warning codes, `[TMPRL1104] …`: the key a repeated warning is counted under. */
const SDK_CODE = /^\[(TMPRL\d{4})\]/;

/** How long one code's window lasts: its first line in full, then one line with the count of the rest. */
export const REPEAT_WINDOW_MS = 60_000;

export interface RepeatThrottle {
  /** Whether to log this message now: true for a message with no code, and for the first of its code in a window. */
  admit(message: string): boolean;
  /** Reports every open window's count now (at shutdown). */
  flush(): void;
}

export interface RepeatThrottleOptions {
  /** Called when a window closes with lines left out: the code, how many, and the window's length. */
  onSuppressed(code: string, count: number, windowMs: number): void;
  windowMs?: number;
  /** Runs `fn` after `ms`; returns a cancel. Defaults to an unref'd timer, so it never holds the process open. */
  schedule?: (fn: () => void, ms: number) => () => void;
}

function unrefTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

export function createRepeatThrottle(options: RepeatThrottleOptions): RepeatThrottle {
  const windowMs = options.windowMs ?? REPEAT_WINDOW_MS;
  const schedule = options.schedule ?? unrefTimer;
  /** Open windows by code: lines left out so far, and the cancel of the window's end. */
  const open = new Map<string, { suppressed: number; cancel: () => void }>();
  const close = (code: string) => {
    const window = open.get(code);
    if (!window) return;
    open.delete(code);
    window.cancel();
    if (window.suppressed > 0) options.onSuppressed(code, window.suppressed, windowMs);
  };
  return {
    admit(message) {
      const code = SDK_CODE.exec(message)?.[1];
      if (!code) return true;
      const window = open.get(code);
      if (window) {
        window.suppressed++;
        return false;
      }
      open.set(code, { suppressed: 0, cancel: schedule(() => close(code), windowMs) });
      return true;
    },
    flush() {
      for (const code of [...open.keys()]) close(code);
    },
  };
}
