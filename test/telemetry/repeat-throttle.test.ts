import { createRepeatThrottle } from '../../src/temporal/repeat-throttle';

/** A clock the test moves by hand: scheduled windows end when it says. */
function manualSchedule() {
  const pending: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  let now = 0;
  return {
    schedule: (fn: () => void, ms: number) => {
      const entry = { at: now + ms, fn, cancelled: false };
      pending.push(entry);
      return () => (entry.cancelled = true);
    },
    advance(ms: number) {
      now += ms;
      for (const entry of pending.splice(0)) {
        if (entry.cancelled) continue;
        if (entry.at <= now) entry.fn();
        else pending.push(entry);
      }
    },
  };
}

const TASK_WARNING = '[TMPRL1104] 01a2:4:1 Workflow task duration exceeded 5 seconds.';

it('logs the first warning of a code in full, counts the rest of its window, and reports the count when it ends', () => {
  const clock = manualSchedule();
  const reports: Array<[string, number, number]> = [];
  const throttle = createRepeatThrottle({ windowMs: 60_000, schedule: clock.schedule, onSuppressed: (...r) => reports.push(r) });

  const admitted = Array.from({ length: 5 }, () => throttle.admit(TASK_WARNING));
  expect(admitted).toEqual([true, false, false, false, false]);
  expect(reports).toEqual([]);
  clock.advance(60_000);
  expect(reports).toEqual([['TMPRL1104', 4, 60_000]]);
  // A new window: the next one is logged in full again.
  expect(throttle.admit(TASK_WARNING)).toBe(true);
  clock.advance(60_000);
  expect(reports).toHaveLength(1); // nothing was left out of the second window
});

it('never holds back a message without a code, and keeps codes apart', () => {
  const clock = manualSchedule();
  const reports: Array<[string, number, number]> = [];
  const throttle = createRepeatThrottle({ schedule: clock.schedule, onSuppressed: (...r) => reports.push(r) });
  expect([throttle.admit('worker failed'), throttle.admit('worker failed')]).toEqual([true, true]);
  expect([throttle.admit(TASK_WARNING), throttle.admit('[TMPRL1103] payload too large'), throttle.admit(TASK_WARNING)]).toEqual([true, true, false]);
  throttle.flush();
  expect(reports).toEqual([['TMPRL1104', 1, 60_000]]);
});
