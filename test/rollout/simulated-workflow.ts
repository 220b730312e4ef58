// Drives the rollout core as workflows/swarm-injection.ts does (children in flight, next/finished on every loop,
// continue-as-new only with nothing in flight) and checks, after every step, what a user of the record relies on.
import type { Share } from '../../src/compiler/rollout';
import type { InjectionEnd, Launch, RevertEnd, RowOutcome, RolloutState, StopReason } from '../../src/rollout/rollout-core';
import { FAILURE_OUTCOMES, Rollout, TERMINAL_ROW_OUTCOMES, initialState } from '../../src/rollout/rollout-core';

export interface SimSetup {
  /** Agent ids in the order the operator gave them. */
  agentIds: string[];
  /** Agents no Docker host lists. */
  notFound?: readonly string[];
  maxParallel: number;
  maxFailures: Share;
  canary: Share;
  /** Agents whose lease another injection holds at start: holder → agent ids. */
  busy?: Readonly<Record<string, readonly string[]>>;
}

const HOST_COUNT = 2;

/** A share of `total`, in whole agents, worked out exactly (integer arithmetic for whole percents). */
export function shareOf(share: Share, total: number, round: 'down' | 'up'): number {
  if (share.kind === 'count') return share.value;
  const exact = (share.value * total) / 100;
  return round === 'down' ? Math.floor(exact) : Math.ceil(exact);
}

export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

function expect(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new InvariantError(message());
}

/**
 * The workflow's side of the contract, plus a reference model of every row: what the core should say each agent is,
 * derived only from what was launched and how each child ended.
 */
export class SimulatedWorkflow {
  core: Rollout;
  /** Children in flight: agent id → the kind of child. */
  readonly inFlight = new Map<string, Launch['kind']>();
  readonly launched: Launch[] = [];
  readonly continuedAsNew: number[] = [];
  /** Coverage of the paths that matter, for the model test to check its generator reaches them. */
  continuedMidRollback = false;
  grantedThenRun = false;
  pausedAtStop = false;
  private readonly grantedIds = new Set<string>();
  private readonly expected = new Map<string, RowOutcome>();
  private readonly injectLaunched = new Set<string>();
  private readonly revertLaunched = new Set<string>();
  /** Agents whose own injection ended 'injected': the only ones a revert may target. */
  private readonly everInjected = new Set<string>();
  private readonly canaryIds: ReadonlySet<string>;
  private stopSeen: StopReason | null = null;
  private pausedSeen = false;
  private maxParallelSeen: number;
  private done = false;

  constructor(readonly setup: SimSetup) {
    const notFound = new Set(setup.notFound ?? []);
    const found = new Map<string, string>();
    setup.agentIds.forEach((agentId, i) => {
      if (!notFound.has(agentId)) found.set(agentId, `host-${i % HOST_COUNT}`);
    });
    this.core = new Rollout(initialState({ agentIds: setup.agentIds, found, settings: { maxParallel: setup.maxParallel, maxFailures: setup.maxFailures, canary: setup.canary } }));
    this.maxParallelSeen = setup.maxParallel;
    for (const row of this.core.state.rows) this.expected.set(row[0], found.has(row[0]) ? 'pending' : 'not-found');
    const launchable = setup.agentIds.filter((id) => found.has(id));
    const { canary } = setup;
    const canaryCount = Math.min(launchable.length, shareOf(canary, launchable.length, 'up'));
    expect(this.core.state.canaryCount === canaryCount, () => `canary of ${this.core.state.canaryCount} agents, expected ${canaryCount}`);
    this.canaryIds = new Set(launchable.slice(0, canaryCount));
    for (const [holder, ids] of Object.entries(setup.busy ?? {})) this.waitFor(ids, holder);
    this.check('setup');
  }

  get finishedSeen(): boolean {
    return this.done;
  }

  get state(): RolloutState {
    return this.core.state;
  }

  /** Agent ids in flight of one kind, in launch order. */
  inFlightOf(kind: Launch['kind']): string[] {
    return [...this.inFlight].filter(([, k]) => k === kind).map(([id]) => id);
  }

  idsWith(outcome: RowOutcome): string[] {
    return this.core.state.rows.filter((row) => row[2] === outcome).map((row) => row[0]);
  }

  // ---- events, as the workflow's signal handlers deliver them -------------------------------------------------

  pause(): void {
    this.core.pause();
    this.pausedSeen = true;
    this.check('pause');
  }

  resume(): void {
    this.core.resume();
    this.pausedSeen = false;
    this.check('resume');
  }

  stop(reason: StopReason): void {
    const wasDone = this.core.state.phase === 'done';
    this.core.stop(reason);
    if (!wasDone) {
      if (this.stopSeen === null && this.pausedSeen) this.pausedAtStop = true;
      this.stopSeen ??= reason;
      this.skipUnstarted();
    }
    this.check(`stop ${reason}`);
  }

  setMaxParallel(value: number): void {
    const previous = this.core.setMaxParallel(value);
    expect(previous === this.maxParallelSeen, () => `setMaxParallel returned ${previous}, the value was ${this.maxParallelSeen}`);
    this.maxParallelSeen = value;
    this.check(`setMaxParallel ${value}`);
  }

  waitFor(agentIds: readonly string[], holder: string): void {
    this.core.waitFor(agentIds, holder);
    for (const id of agentIds) if (this.expected.get(id) === 'pending') this.expected.set(id, 'waiting');
    this.check(`waitFor ${agentIds.join(',')}`);
  }

  grant(agentIds: readonly string[]): void {
    this.core.granted(agentIds);
    for (const id of agentIds) {
      if (this.expected.get(id) !== 'waiting') continue;
      this.expected.set(id, 'pending');
      this.grantedIds.add(id);
    }
    this.check(`grant ${agentIds.join(',')}`);
  }

  /** An injection child ended; the core may stop the rollout on its failure budget. */
  settleInjection(agentId: string, end: InjectionEnd, note: string | null = null): void {
    expect(this.inFlight.get(agentId) === 'inject', () => `no injection child in flight for ${agentId}`);
    const before = this.failures();
    const phase = this.core.state.phase;
    expect(this.core.injectionSettled(agentId, end, note), () => `injectionSettled(${agentId}) refused a running child`);
    this.inFlight.delete(agentId);
    this.expected.set(agentId, end);
    if (end === 'injected') this.everInjected.add(agentId);
    this.afterBudgetCheck(before, phase);
    this.check(`injection of ${agentId} ended ${end}`);
  }

  settleRevert(agentId: string, end: RevertEnd, note: string | null = null): void {
    expect(this.inFlight.get(agentId) === 'revert', () => `no revert child in flight for ${agentId}`);
    expect(this.core.revertSettled(agentId, end, note), () => `revertSettled(${agentId}) refused a reverting child`);
    this.inFlight.delete(agentId);
    this.expected.set(agentId, end);
    this.check(`revert of ${agentId} ended ${end}`);
  }

  /** A report for a child that is not in flight (a duplicate): refused, and nothing changes. */
  duplicateReport(agentId: string): void {
    if (this.inFlight.has(agentId)) return;
    const before = JSON.stringify(this.core.state);
    expect(!this.core.injectionSettled(agentId, 'failed', 'DUPLICATE'), () => `a duplicate injection report for ${agentId} was taken`);
    expect(!this.core.revertSettled(agentId, 'revert-failed', 'DUPLICATE'), () => `a duplicate revert report for ${agentId} was taken`);
    expect(JSON.stringify(this.core.state) === before, () => `a duplicate report for ${agentId} changed the state`);
  }

  /** Continue-as-new, as the workflow does it: only with nothing in flight, the state carried as JSON. */
  continueAsNew(): boolean {
    if (this.inFlight.size > 0 || this.done) return false;
    const carried = JSON.stringify(this.core.state);
    this.core = new Rollout(JSON.parse(carried) as RolloutState);
    expect(JSON.stringify(this.core.state) === carried, () => 'the state changed across continue-as-new');
    this.continuedAsNew.push(this.launched.length);
    if (this.stopSeen !== null && this.core.state.rows.some((row) => row[2] === 'injected')) this.continuedMidRollback = true;
    this.check('continue-as-new');
    return true;
  }

  // ---- the workflow's loop --------------------------------------------------------------------------------------

  /** One pass of drive(): launch what the core asks, then ask whether it has finished. */
  tick(draining = false): Launch[] {
    if (this.done) {
      expect(this.core.next(this.inFlight.size, draining).length === 0, () => 'a finished rollout launched more');
      expect(this.core.finished(this.inFlight.size), () => 'a finished rollout is no longer finished');
      return [];
    }
    const before = this.failures();
    const phase = this.core.state.phase;
    const inFlightBefore = this.inFlight.size;
    const launches = this.core.next(inFlightBefore, draining);
    // next() spends the budget on unknown targets before it launches anything.
    this.afterBudgetCheck(before, phase, true);
    expect(!draining || launches.length === 0, () => 'launched while draining for continue-as-new');
    if (launches.length > 0) {
      expect(inFlightBefore + launches.length <= this.core.maxParallel, () => `${inFlightBefore} in flight + ${launches.length} launched > maxParallel ${this.core.maxParallel}`);
    }
    for (const step of launches) this.acceptLaunch(step);
    if (this.core.finished(this.inFlight.size)) {
      this.done = true;
      this.checkFinished();
    }
    this.check(`tick (${launches.map((l) => `${l.kind} ${l.agentId}`).join(', ') || 'nothing'})`);
    return launches;
  }

  // ---- checks ---------------------------------------------------------------------------------------------------

  private acceptLaunch(step: Launch): void {
    const { kind, agentId } = step;
    expect(!this.inFlight.has(agentId), () => `${agentId} launched while a child of it is in flight`);
    expect(step.host === this.core.hostOf(agentId) && step.host !== null, () => `${agentId} launched on ${step.host}, its host is ${this.core.hostOf(agentId)}`);
    if (kind === 'inject') {
      expect(this.stopSeen === null, () => `injection of ${agentId} launched after the stop (${this.stopSeen})`);
      expect(!this.pausedSeen, () => `injection of ${agentId} launched while paused`);
      expect(!this.injectLaunched.has(agentId), () => `${agentId} injected twice`);
      expect(this.expected.get(agentId) === 'pending', () => `${agentId} launched from ${this.expected.get(agentId)}`);
      const canaryOpen = [...this.canaryIds].some((id) => !TERMINAL_ROW_OUTCOMES.has(this.expected.get(id)!) || this.inFlight.has(id));
      expect(this.canaryIds.has(agentId) || !canaryOpen, () => `${agentId} launched before the canary ended`);
      this.injectLaunched.add(agentId);
      if (this.grantedIds.has(agentId)) this.grantedThenRun = true;
      this.expected.set(agentId, 'running');
    } else {
      expect(this.stopSeen !== null, () => `revert of ${agentId} without a stop`);
      expect(this.everInjected.has(agentId) && this.expected.get(agentId) === 'injected', () => `revert of ${agentId}, which this injection did not leave injected`);
      expect(this.inFlightOf('inject').length === 0, () => `revert of ${agentId} launched while injections are in flight`);
      expect(!this.revertLaunched.has(agentId), () => `${agentId} reverted twice`);
      this.revertLaunched.add(agentId);
      this.expected.set(agentId, 'reverting');
    }
    this.inFlight.set(agentId, kind);
    this.launched.push(step);
  }

  private failures(): number {
    let n = 0;
    for (const outcome of this.expected.values()) if (FAILURE_OUTCOMES.has(outcome)) n++;
    return n;
  }

  private canaryFailures(): number {
    let n = 0;
    for (const id of this.canaryIds) if (FAILURE_OUTCOMES.has(this.expected.get(id)!)) n++;
    return n;
  }

  /**
   * After a failure was counted: the core stops exactly when the budget is spent. In the canary, with the canary's
   * own budget (MAX_FAILURES a count: the same count; a percent: of the canary's size) and the whole budget.
   */
  private afterBudgetCheck(failuresBefore: number, phase: RolloutState['phase'], unknownTargets = false): void {
    const reason = this.core.state.stopReason;
    if (this.stopSeen !== null || phase === 'done' || phase === 'rollback') {
      expect(reason === this.stopSeen, () => `the stop reason changed from ${this.stopSeen} to ${reason}`);
      return;
    }
    const { maxFailures } = this.setup;
    const budget = shareOf(maxFailures, this.setup.agentIds.length, 'down');
    const canaryBudget = shareOf(maxFailures, this.canaryIds.size, 'down');
    const failures = this.failures();
    let due: StopReason | null = null;
    if (unknownTargets && failures > budget) due = 'failure-budget-exceeded';
    else if (phase === 'canary' && (this.canaryFailures() > canaryBudget || failures > budget)) due = 'canary-failed';
    else if (phase === 'main' && failures > budget) due = 'failure-budget-exceeded';
    if (due === null) {
      expect(reason === null, () => `stopped (${reason}) with ${failures} failures, budget ${budget}, before ${failuresBefore}`);
      return;
    }
    expect(reason === due, () => `${failures} failures over budget ${budget} (phase ${phase}) should stop with ${due}, got ${reason}`);
    this.stopSeen = due;
    this.skipUnstarted();
  }

  private skipUnstarted(): void {
    for (const [id, outcome] of this.expected) if (outcome === 'pending' || outcome === 'waiting') this.expected.set(id, 'skipped');
  }

  private checkFinished(): void {
    for (const row of this.core.state.rows) {
      expect(TERMINAL_ROW_OUTCOMES.has(row[2]), () => `finished with ${row[0]} ${row[2]}`);
      if (this.stopSeen !== null) expect(row[2] !== 'injected', () => `stopped (${this.stopSeen}) and finished with ${row[0]} still injected`);
      else expect(row[2] !== 'skipped', () => `finished without a stop and ${row[0]} skipped`);
    }
    expect(this.inFlight.size === 0, () => 'finished with children in flight');
    const status = this.core.status();
    const c = this.core.counts();
    const want = this.stopSeen ?? (c.failed === 0 ? 'succeeded' : 'partially-succeeded');
    expect(status === want, () => `finished with status ${status}, expected ${want}`);
  }

  /** After every step: the core's rows are the reference model's, children in flight match the rows, counts the rows. */
  check(step: string): void {
    const s = this.core.state;
    const at = () => `after ${step}: `;
    for (const row of s.rows) {
      expect(row[2] === this.expected.get(row[0]), () => `${at()}${row[0]} is ${row[2]}, expected ${this.expected.get(row[0])}`);
      const kind = this.inFlight.get(row[0]);
      expect((row[2] === 'running') === (kind === 'inject'), () => `${at()}${row[0]} is ${row[2]}, in flight: ${kind}`);
      expect((row[2] === 'reverting') === (kind === 'revert'), () => `${at()}${row[0]} is ${row[2]}, in flight: ${kind}`);
      if (row[2] === 'injected' || row[2] === 'reverting' || row[2] === 'reverted' || row[2] === 'revert-failed' || row[2] === 'revert-superseded') {
        expect(this.everInjected.has(row[0]), () => `${at()}${row[0]} is ${row[2]} but its injection never ended injected`);
      }
    }
    expect(s.stopReason === this.stopSeen, () => `${at()}stop reason ${s.stopReason}, expected ${this.stopSeen}`);
    expect(s.paused === this.pausedSeen, () => `${at()}paused ${s.paused}, expected ${this.pausedSeen}`);
    expect(this.core.failureBudget() === shareOf(this.setup.maxFailures, this.setup.agentIds.length, 'down'), () => `${at()}failure budget ${this.core.failureBudget()}`);
    expect(this.core.maxParallel === this.maxParallelSeen, () => `${at()}maxParallel ${this.core.maxParallel}, expected ${this.maxParallelSeen}`);
    if (s.stopReason !== null) expect(!s.rows.some((row) => row[2] === 'pending' || row[2] === 'waiting'), () => `${at()}stopped with agents still pending or waiting`);
    for (const [id, kind] of this.inFlight) {
      const abort = this.core.mustAbort(id);
      expect(abort === (kind === 'inject' && s.stopReason !== null), () => `${at()}mustAbort(${id}) is ${abort} for a ${kind} child, stop ${s.stopReason}`);
    }
    this.core.status();
    expect(Object.keys(s.waitingOn).length === this.idsWith('waiting').length, () => `${at()}waitingOn names ${Object.keys(s.waitingOn).length}, ${this.idsWith('waiting').length} rows wait`);
    checkCounts(this.core, at());
  }
}

/** The counts are the rows: every field counts its outcome, they add up to the total, and `failed` is its five parts. */
export function checkCounts(core: Rollout, at = ''): void {
  const c = core.counts();
  const { total, failed, ...parts } = c;
  const rows = core.state.rows;
  const sum = Object.values(parts).reduce((a, b) => a + b, 0);
  expect(total === rows.length && sum === total, () => `${at}counts add up to ${sum}, total ${total}, rows ${rows.length}`);
  expect(failed === c.failedUnchanged + c.rolledBack + c.rollbackFailed + c.notFound + c.superseded, () => `${at}failed ${failed} is not the sum of its parts`);
  expect(failed === rows.filter((row) => FAILURE_OUTCOMES.has(row[2])).length, () => `${at}failed ${failed} differs from the failed rows`);
  const of = (o: RowOutcome) => rows.filter((row) => row[2] === o).length;
  const pairs: [keyof typeof parts, RowOutcome][] = [
    ['waiting', 'waiting'],
    ['pending', 'pending'],
    ['running', 'running'],
    ['injected', 'injected'],
    ['failedUnchanged', 'failed'],
    ['rolledBack', 'rolled-back'],
    ['rollbackFailed', 'rollback-failed'],
    ['notFound', 'not-found'],
    ['superseded', 'superseded'],
    ['reverting', 'reverting'],
    ['reverted', 'reverted'],
    ['revertFailed', 'revert-failed'],
    ['revertSuperseded', 'revert-superseded'],
    ['skipped', 'skipped'],
  ];
  for (const [key, outcome] of pairs) expect(parts[key] === of(outcome), () => `${at}counts.${key} ${parts[key]}, rows ${outcome}: ${of(outcome)}`);
}
