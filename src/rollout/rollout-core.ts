// The rollout's state machine, pure: rows, counts, failure budget, canary, waves, leases, stop and rollback. No Temporal
// import: the swarm workflow feeds it events (a child settled, a lease granted, pause, abort, deadline, cancel) and does
// what it asks (launch these children, abort those, continue as new, finish). Its state is plain JSON, carried across
// continue-as-new as it is.
import type { Share } from '../contracts/rollout-settings';
import type { OutcomeCounts, RowOutcome } from '../contracts/swarm-progress';
import { MAX_PARALLEL_LIMIT } from '../contracts/swarm-progress';

export type { OutcomeCounts, RowOutcome } from '../contracts/swarm-progress';
export { MAX_PARALLEL_LIMIT } from '../contracts/swarm-progress';

export type StopReason = 'canary-failed' | 'failure-budget-exceeded' | 'deadline-exceeded' | 'aborted' | 'cancelled';
export type Phase = 'canary' | 'main' | 'rollback' | 'done';

export const TERMINAL_ROW_OUTCOMES: ReadonlySet<RowOutcome> = new Set<RowOutcome>([
  'injected',
  'failed',
  'rolled-back',
  'rollback-failed',
  'not-found',
  'superseded',
  'reverted',
  'revert-failed',
  'revert-superseded',
  'skipped',
]);
/** Outcomes of an agent's own injection that spend the failure budget. */
export const FAILURE_OUTCOMES: ReadonlySet<RowOutcome> = new Set<RowOutcome>(['failed', 'rolled-back', 'rollback-failed', 'not-found', 'superseded']);

/** An agent's own injection child ended so. */
export type InjectionEnd = 'injected' | 'failed' | 'rolled-back' | 'rollback-failed' | 'not-found' | 'superseded';
/** An agent's swarm-wide revert ended so. */
export type RevertEnd = 'reverted' | 'revert-failed' | 'revert-superseded';

/**
 * One agent, compact because 10,000 of them ride in the continue-as-new input: [agentId, host index (into
 * `hosts`, null when not found), outcome, note]. A note is a short error code, or `#<n>`: entry n of `notes` (the few
 * long texts, such as which injection superseded this one).
 */
export type Row = [agentId: string, host: number | null, outcome: RowOutcome, note: string | null];

export interface RolloutSettingsView {
  maxParallel: number;
  maxFailures: Share;
  canary: Share;
}

export interface RolloutState {
  v: 1;
  rows: Row[];
  hosts: string[];
  notes: string[];
  /** Agents in the canary wave: the first `canaryCount` rows that were found. */
  canaryCount: number;
  phase: Phase;
  stopReason: StopReason | null;
  paused: boolean;
  maxParallelOverride: number | null;
  settings: RolloutSettingsView;
  /** Who holds the lease of a waiting agent: agentId → note index. */
  waitingOn: Record<string, number>;
}

export type Launch = { kind: 'inject'; agentId: string; host: string } | { kind: 'revert'; agentId: string; host: string };


export const MAX_NOTE_CHARS = 40;
export const MAX_NOTES = 1_000;

/** Failures allowed before the rollout stops: a count, or a share of `total` rounded down. */
export function allowedFailures(share: Share, total: number): number {
  // Multiply first: (29 / 100) * 100 is 28.999999999999996 in floating point, 29 * 100 / 100 is 29.
  return share.kind === 'count' ? share.value : Math.floor((share.value * total) / 100);
}

/** Agents in the canary wave: a count, or a share of `total` rounded up (at least one when the share is above zero). */
export function canarySize(share: Share, total: number): number {
  const size = share.kind === 'count' ? share.value : Math.ceil((share.value * total) / 100);
  return Math.min(Math.max(size, 0), total);
}

/** The state of a rollout whose targets are resolved: `found` maps agent id → host; the rest were not found. */
export function initialState(input: {
  agentIds: string[];
  found: ReadonlyMap<string, string>;
  /** Agent ids that more than one host claims: not-found, with that note. */
  duplicates?: ReadonlySet<string>;
  settings: RolloutSettingsView;
}): RolloutState {
  const hosts = [...new Set(input.found.values())].sort();
  const rows = input.agentIds.map((agentId): Row => {
    if (input.duplicates?.has(agentId)) return [agentId, null, 'not-found', 'DUPLICATE_AGENT_ID'];
    const host = input.found.get(agentId);
    return host === undefined ? [agentId, null, 'not-found', 'AGENT_NOT_FOUND'] : [agentId, hosts.indexOf(host), 'pending', null];
  });
  const launchable = rows.filter((row) => row[1] !== null).length;
  const canaryCount = canarySize(input.settings.canary, launchable);
  return {
    v: 1,
    rows,
    hosts,
    notes: [],
    canaryCount,
    phase: canaryCount > 0 ? 'canary' : 'main',
    stopReason: null,
    paused: false,
    maxParallelOverride: null,
    settings: input.settings,
    waitingOn: {},
  };
}

/**
 * Drives one rollout. Methods that change the state return nothing; `next()` says what the workflow should do now.
 * The workflow tells it how many children it has in flight, so that the core never launches past `maxParallel` and
 * knows when a stopped rollout has drained.
 */
export class Rollout {
  private readonly index = new Map<string, number>();
  /** Rows per outcome, kept as rows change: the core is asked for counts on every event, at 10,000 rows. */
  private readonly tally: Record<RowOutcome, number> = {
    waiting: 0,
    pending: 0,
    running: 0,
    injected: 0,
    failed: 0,
    'rolled-back': 0,
    'rollback-failed': 0,
    'not-found': 0,
    superseded: 0,
    reverting: 0,
    reverted: 0,
    'revert-failed': 0,
    'revert-superseded': 0,
    skipped: 0,
  };
  /** Row indexes of the canary wave. */
  private readonly canary: number[] = [];
  /** Rows before these indexes hold nothing to launch (forward) or to revert: each scan resumes there. */
  private launchCursor = 0;
  private revertCursor = 0;

  constructor(readonly state: RolloutState) {
    state.rows.forEach((row, i) => {
      this.index.set(row[0], i);
      this.tally[row[2]]++;
    });
    // The first CANARY agents that were found: stable across continue-as-new, since found/not-found never changes.
    for (let i = 0; i < state.rows.length && this.canary.length < state.canaryCount; i++) if (state.rows[i][1] !== null) this.canary.push(i);
  }

  get maxParallel(): number {
    return this.state.maxParallelOverride ?? this.state.settings.maxParallel;
  }

  get total(): number {
    return this.state.rows.length;
  }

  failureBudget(): number {
    return allowedFailures(this.state.settings.maxFailures, this.total);
  }

  hostOf(agentId: string): string | null {
    const row = this.row(agentId);
    return row && row[1] !== null ? this.state.hosts[row[1]] ?? null : null;
  }

  outcomeOf(agentId: string): RowOutcome | undefined {
    return this.row(agentId)?.[2];
  }

  noteOf(row: Row): string | null {
    const note = row[3];
    if (note === null || !note.startsWith('#')) return note;
    return this.state.notes[Number(note.slice(1))] ?? null;
  }

  // ---- events -------------------------------------------------------------------------------------------------

  pause(): void {
    this.state.paused = true;
  }

  resume(): void {
    this.state.paused = false;
  }

  setMaxParallel(value: number): number {
    if (!Number.isInteger(value) || value < 1 || value > MAX_PARALLEL_LIMIT) {
      throw new RangeError(`maxParallel must be a whole number from 1 to ${MAX_PARALLEL_LIMIT}, got ${String(value)}`);
    }
    const previous = this.maxParallel;
    this.state.maxParallelOverride = value;
    return previous;
  }

  /**
   * Stops the rollout (the first reason wins): nothing more is launched forward, agents not started are skipped, and
   * once the children in flight have ended, every agent this injection changed is reverted. A pause never holds it.
   */
  stop(reason: StopReason): void {
    if (this.state.phase === 'done') return;
    if (this.state.stopReason === null) this.state.stopReason = reason;
    for (const row of this.state.rows) {
      if (row[2] === 'pending' || row[2] === 'waiting') {
        this.set(row, 'skipped');
        row[3] = `NOT_STARTED_${this.state.stopReason.toUpperCase().replace(/-/g, '_')}`.slice(0, MAX_NOTE_CHARS);
      }
    }
    this.state.waitingOn = {};
  }

  /** This injection could not get these agents' leases yet: they wait, and the status names the holder. */
  waitFor(agentIds: readonly string[], holder: string): void {
    const note = this.noteIndex(holder);
    for (const agentId of agentIds) {
      const row = this.row(agentId);
      if (!row || row[2] !== 'pending') continue;
      this.set(row, 'waiting');
      this.state.waitingOn[agentId] = note;
    }
  }

  /** Leases granted later (the holder released them): these agents may start. */
  granted(agentIds: readonly string[]): void {
    for (const agentId of agentIds) {
      const row = this.row(agentId);
      if (!row || row[2] !== 'waiting') continue;
      this.set(row, 'pending');
      delete this.state.waitingOn[agentId];
      this.launchCursor = Math.min(this.launchCursor, this.index.get(agentId) ?? 0);
    }
  }

  /** An agent's own injection child ended; returns false when the row was not running (a duplicate report). */
  injectionSettled(agentId: string, end: InjectionEnd, note: string | null): boolean {
    const row = this.row(agentId);
    if (!row || row[2] !== 'running') return false;
    this.set(row, end);
    row[3] = this.note(note);
    this.checkBudget();
    return true;
  }

  /** An agent's swarm-wide revert ended. */
  revertSettled(agentId: string, end: RevertEnd, note: string | null): boolean {
    const row = this.row(agentId);
    if (!row || row[2] !== 'reverting') return false;
    this.set(row, end);
    row[3] = this.note(note);
    return true;
  }

  // ---- what to do next ----------------------------------------------------------------------------------------

  /**
   * Moves the phase on where it can, then picks what to launch now: at most `maxParallel - inFlight` children.
   * `draining`: the history is large and the workflow wants to continue as new, so nothing new is launched.
   */
  next(inFlight: number, draining = false): Launch[] {
    this.advance(inFlight);
    const room = this.maxParallel - inFlight;
    if (room <= 0 || draining || this.state.phase === 'done') return [];
    const launches: Launch[] = [];
    if (this.state.phase === 'rollback') {
      // Only once the forward children have drained (advance() moves to 'rollback' then), and never held by a pause.
      // No forward child is in flight in this phase, so no row becomes 'injected' behind the cursor.
      const rows = this.state.rows;
      while (this.revertCursor < rows.length && rows[this.revertCursor][2] !== 'injected') this.revertCursor++;
      for (let i = this.revertCursor; i < rows.length && launches.length < room; i++) {
        const row = rows[i];
        if (row[2] !== 'injected') continue;
        this.set(row, 'reverting');
        launches.push({ kind: 'revert', agentId: row[0], host: this.state.hosts[row[1] as number] });
      }
      return launches;
    }
    if (this.state.stopReason !== null || this.state.paused) return [];
    const rows = this.state.rows;
    const launchRow = (row: Row) => {
      this.set(row, 'running');
      launches.push({ kind: 'inject', agentId: row[0], host: this.state.hosts[row[1] as number] });
    };
    if (this.state.phase === 'canary') {
      for (const i of this.canary) {
        if (launches.length >= room) break;
        if (rows[i][2] === 'pending') launchRow(rows[i]);
      }
      return launches;
    }
    while (this.launchCursor < rows.length && rows[this.launchCursor][2] !== 'pending') this.launchCursor++;
    for (let i = this.launchCursor; i < rows.length && launches.length < room; i++) if (rows[i][2] === 'pending') launchRow(rows[i]);
    return launches;
  }

  /** Agents whose injection child must be told to stop and roll itself back (the rollout has stopped). */
  mustAbort(agentId: string): boolean {
    return this.state.stopReason !== null && this.row(agentId)?.[2] === 'running';
  }

  /** True when nothing is left to do: every row is final and nothing is in flight. */
  finished(inFlight: number): boolean {
    this.advance(inFlight);
    return this.state.phase === 'done';
  }

  /** Nothing can happen until an event arrives (a grant, a resume, a settled child, a stop). */
  waitingForEvents(inFlight: number): boolean {
    return inFlight > 0 || this.state.paused || this.countOf('waiting') > 0;
  }

  // ---- views --------------------------------------------------------------------------------------------------

  status(): 'canary' | 'rolling-out' | 'paused' | 'waiting-for-agents' | 'rolling-back' | StopReason | 'succeeded' | 'partially-succeeded' {
    const { phase, stopReason, paused } = this.state;
    if (phase === 'done') return stopReason ?? (this.failedCount() === 0 ? 'succeeded' : 'partially-succeeded');
    if (stopReason !== null || phase === 'rollback') return 'rolling-back';
    if (paused) return 'paused';
    if (phase === 'canary') return 'canary';
    const c = this.counts();
    return c.waiting > 0 && c.pending === 0 && c.running === 0 ? 'waiting-for-agents' : 'rolling-out';
  }

  counts(): OutcomeCounts {
    const t = this.tally;
    return {
      total: this.total,
      waiting: t.waiting,
      pending: t.pending,
      running: t.running,
      injected: t.injected,
      failedUnchanged: t.failed,
      rolledBack: t['rolled-back'],
      rollbackFailed: t['rollback-failed'],
      notFound: t['not-found'],
      superseded: t.superseded,
      reverting: t.reverting,
      reverted: t.reverted,
      revertFailed: t['revert-failed'],
      revertSuperseded: t['revert-superseded'],
      skipped: t.skipped,
      failed: this.failedCount(),
    };
  }

  /** Waiting agents and who holds them, at most `limit`. */
  waitingFor(limit: number): { agentId: string; holder: string }[] {
    return Object.entries(this.state.waitingOn)
      .slice(0, limit)
      .map(([agentId, note]) => ({ agentId, holder: this.state.notes[note] ?? 'unknown' }));
  }

  // ---- inside ---------------------------------------------------------------------------------------------------

  private row(agentId: string): Row | undefined {
    const i = this.index.get(agentId);
    return i === undefined ? undefined : this.state.rows[i];
  }

  private countOf(outcome: RowOutcome): number {
    return this.tally[outcome];
  }

  private set(row: Row, outcome: RowOutcome): void {
    this.tally[row[2]]--;
    this.tally[outcome]++;
    row[2] = outcome;
  }

  private failedCount(): number {
    let n = 0;
    for (const outcome of FAILURE_OUTCOMES) n += this.tally[outcome];
    return n;
  }

  private canaryBudget(size: number): number {
    const { maxFailures } = this.state.settings;
    return maxFailures.kind === 'count' ? this.failureBudget() : allowedFailures(maxFailures, size);
  }

  private checkBudget(): void {
    if (this.state.stopReason !== null) return;
    const failed = this.failedCount();
    if (this.state.phase === 'canary') {
      let canaryFailed = 0;
      for (const i of this.canary) if (FAILURE_OUTCOMES.has(this.state.rows[i][2])) canaryFailed++;
      if (canaryFailed > this.canaryBudget(this.canary.length) || failed > this.failureBudget()) this.stop('canary-failed');
      return;
    }
    if (failed > this.failureBudget()) this.stop('failure-budget-exceeded');
  }

  private advance(inFlight: number): void {
    const s = this.state;
    // Unknown targets alone can spend the budget: then nothing is launched at all (not a canary failure: no canary ran).
    if ((s.phase === 'canary' || s.phase === 'main') && s.stopReason === null && this.failedCount() > this.failureBudget()) this.stop('failure-budget-exceeded');
    if (s.phase === 'canary' && s.stopReason === null) {
      const open = this.canary.some((i) => !TERMINAL_ROW_OUTCOMES.has(s.rows[i][2]));
      if (!open && inFlight === 0) s.phase = 'main';
    }
    if ((s.phase === 'canary' || s.phase === 'main') && s.stopReason !== null && inFlight === 0) s.phase = 'rollback';
    const t = this.tally;
    const open = t.waiting + t.pending + t.running + t.reverting;
    if (s.phase === 'main' && s.stopReason === null && inFlight === 0 && open === 0) s.phase = 'done';
    if (s.phase === 'rollback' && inFlight === 0 && t.injected + t.reverting === 0) s.phase = 'done';
  }

  private note(text: string | null): string | null {
    if (text === null) return null;
    if (text.length <= MAX_NOTE_CHARS && !text.startsWith('#')) return text;
    const i = this.noteIndex(text);
    // The table is full: the row keeps the start of its own text, never another row's.
    return i < 0 ? text.replace(/^#+/, '').slice(0, MAX_NOTE_CHARS) || null : `#${i}`;
  }

  /** Where `text` is in the notes table, added if new; -1 once the table is full (a waiting agent's holder then reads 'unknown'). */
  private noteIndex(text: string): number {
    const clipped = text.slice(0, 200);
    let i = this.state.notes.indexOf(clipped);
    if (i < 0 && this.state.notes.length < MAX_NOTES) {
      this.state.notes.push(clipped);
      i = this.state.notes.length - 1;
    }
    return i;
  }
}
