// The swarm injection as the builds before the rollout core ran it: kept unchanged so that injections they started
// (and their histories) replay and finish the way they began. New injections take workflows/swarm-injection.ts.
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CompiledProgram, DockerActivities, InjectorActivities } from '../../activities';
import type { RolloutSettings, Share } from '../../src/compiler';
import type {
  AgentInjectionResult,
  AgentOutcome,
  AgentRollbackResult,
  AgentStatusEntry,
  OperatorAction,
  OutcomeCounts,
  SwarmInjectionInput,
  SwarmInjectionResult,
  SwarmProgress,
  SwarmStatus,
  Wave,
} from '../../src/shared/injection-types';
import { MAX_TARGET_AGENTS, PRIORITY_KEY, childWorkflowId, rollbackWorkflowId } from '../../src/shared/injection-types';
import { AGENT_ID, INJECTION_ID, INJECTION_STATUS } from '../../src/shared/search-attributes';
import { dockerHostTaskQueue, mainTaskQueue } from '../../src/shared/task-queues';
import {
  COMPILE_ACTIVITY_TIMEOUT,
  CONTINUE_AS_NEW_AFTER_BYTES,
  RESOLVE_ACTIVITY_TIMEOUT,
} from '../../src/shared/timeouts';
import { agentInjectionWorkflow, agentRollbackWorkflow } from '../agent-injection';
import { abortAgentSignal, abortSignal, pauseSignal, progressQuery, resumeSignal, setMaxParallelUpdate } from '../../src/contracts/messages';
import { ERROR_TEXT_LIMIT_CHARS, MAX_PARALLEL_LIMIT, PROGRESS_PAGE_LIMIT } from '../../src/contracts/swarm-progress';

/** The bound these builds ran with: a replay must continue as new exactly where they did. */
const LEGACY_CONTINUE_AS_NEW_AFTER_EVENTS = 6_000;

/** One agent's place in the rollout: [agentId, host or null when not found, outcome, error text]. Compact on purpose. */
type AgentRow = [agentId: string, host: string | null, outcome: AgentOutcome, error: string | null];

type Phase = 'compile' | 'resolve' | 'canary' | 'main' | 'rollback' | 'done';
type StopReason = 'canary-failed' | 'failure-budget-exceeded' | 'deadline-exceeded' | 'aborted' | 'cancelled';

/** Everything a run hands to the next one through continue-as-new. */
interface CarriedState {
  startedAt: string;
  deadlineAt: number | null;
  program: Extract<CompiledProgram, { ok: true }> | null;
  rows: AgentRow[];
  canaryCount: number;
  phase: Phase;
  stopReason: StopReason | null;
  paused: boolean;
  maxParallel: number | null;
  run: number;
  historyEventsPerRun: number[];
}

export interface SwarmInjectionRunInput extends SwarmInjectionInput {
  carried?: CarriedState;
}

export type LegacyCarriedState = CarriedState;

const FAILURE_OUTCOMES: ReadonlySet<AgentOutcome> = new Set(['failed', 'rolled-back', 'rollback-failed', 'not-found']);

/** Failures allowed before the rollout stops: a count, or a share of `total` rounded down. */
export function allowedFailures(share: Share, total: number): number {
  return share.kind === 'count' ? share.value : Math.floor((share.value / 100) * total);
}

/** Agents in the canary wave: a count, or a share of `total` rounded up (at least one when the share is above zero). */
export function canarySize(share: Share, total: number): number {
  const size = share.kind === 'count' ? share.value : Math.ceil((share.value / 100) * total);
  return Math.min(Math.max(size, 0), total);
}

export async function legacySwarmInjection(input: SwarmInjectionRunInput): Promise<SwarmInjectionResult> {
  const state: CarriedState = input.carried ?? {
    startedAt: new Date().toISOString(),
    deadlineAt: null,
    program: null,
    rows: [],
    canaryCount: 0,
    phase: 'compile',
    stopReason: null,
    paused: false,
    maxParallel: null,
    run: 1,
    historyEventsPerRun: [],
  };
  const index = new Map<string, number>(state.rows.map((row, i) => [row[0], i]));
  const inFlight = new Set<string>();
  let changed = 0; // bumped whenever something the main loop waits on happens
  const priority = { priorityKey: PRIORITY_KEY[input.priority] };
  const rollout = (): RolloutSettings | null => state.program?.rollout ?? null;
  const maxParallel = (): number => state.maxParallel ?? rollout()?.maxParallel ?? 1;

  setHandler(pauseSignal, () => {
    state.paused = true;
    changed++;
    setStatus();
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    changed++;
    setStatus();
  });
  setHandler(abortSignal, (reason) => {
    log.warn('abort requested', { reason });
    stop('aborted');
  });
  setHandler(
    setMaxParallelUpdate,
    (value: number, _action?: OperatorAction) => {
      const previous = maxParallel();
      state.maxParallel = value;
      changed++;
      return previous;
    },
    {
      validator: (value: number, _action?: OperatorAction) => {
        if (!Number.isInteger(value) || value < 1 || value > MAX_PARALLEL_LIMIT) {
          throw new Error(`maxParallel must be a whole number from 1 to ${MAX_PARALLEL_LIMIT}, got ${String(value)}`);
        }
      },
    },
  );
  setHandler(progressQuery, (page) => progress(page));

  function stop(reason: StopReason): void {
    if (state.stopReason === null) state.stopReason = reason;
    changed++;
    setStatus();
  }

  function status(): SwarmStatus {
    if (state.phase === 'compile') return 'compiling';
    if (state.phase === 'resolve') return 'resolving';
    if (state.phase === 'rollback') return 'rolling-back';
    if (state.phase === 'done') return finalStatus();
    if (state.stopReason) return 'rolling-back';
    if (state.paused) return 'paused';
    return state.phase === 'canary' ? 'canary' : 'rolling-out';
  }

  function finalStatus(): SwarmStatus {
    if (state.stopReason) return state.stopReason;
    const c = counts();
    return c.failed === 0 ? 'succeeded' : 'partially-succeeded';
  }

  /** Also sets InjectionId, so a swarm started without it (e.g. by `temporal workflow start`) is still found by it. */
  function setStatus(): void {
    upsertSearchAttributes([
      { key: INJECTION_ID, value: input.injectionId },
      { key: INJECTION_STATUS, value: status() },
    ]);
  }

  function counts(): OutcomeCounts {
    const c: OutcomeCounts = {
      total: state.rows.length,
      waiting: 0,
      superseded: 0,
      reverting: 0,
      revertSuperseded: 0,
      pending: 0,
      running: 0,
      injected: 0,
      failedUnchanged: 0,
      rolledBack: 0,
      rollbackFailed: 0,
      notFound: 0,
      reverted: 0,
      revertFailed: 0,
      skipped: 0,
      failed: 0,
    };
    for (const [, , outcome] of state.rows) {
      if (outcome === 'pending') c.pending++;
      else if (outcome === 'running') c.running++;
      else if (outcome === 'injected') c.injected++;
      else if (outcome === 'failed') c.failedUnchanged++;
      else if (outcome === 'rolled-back') c.rolledBack++;
      else if (outcome === 'rollback-failed') c.rollbackFailed++;
      else if (outcome === 'not-found') c.notFound++;
      else if (outcome === 'reverted') c.reverted++;
      else if (outcome === 'revert-failed') c.revertFailed++;
      else if (outcome === 'skipped') c.skipped++;
      if (FAILURE_OUTCOMES.has(outcome)) c.failed++;
    }
    return c;
  }

  function entry(row: AgentRow): AgentStatusEntry {
    const [agentId, host, outcome, error] = row;
    const started = outcome !== 'pending' && outcome !== 'skipped' && outcome !== 'not-found';
    return { agentId, host, outcome, childWorkflowId: started ? childWorkflowId(input.injectionId, agentId) : null, ...(error ? { error } : {}) };
  }

  function progress(page?: { offset?: number; limit?: number }): SwarmProgress {
    const offset = Math.max(0, Math.floor(page?.offset ?? 0));
    const limit = Math.min(PROGRESS_PAGE_LIMIT, Math.max(1, Math.floor(page?.limit ?? 50)));
    const now = Date.now();
    const r = rollout();
    return {
      injectionId: input.injectionId,
      status: status(),
      wave: wave(),
      paused: state.paused,
      maxParallel: maxParallel(),
      counts: counts(),
      failureBudget: r ? allowedFailures(r.maxFailures, state.rows.length) : 0,
      deadline: state.deadlineAt === null ? null : new Date(state.deadlineAt).toISOString(),
      msUntilDeadline: state.deadlineAt === null ? null : Math.max(0, state.deadlineAt - now),
      run: state.run,
      rollout: r,
      agents: { offset, limit, total: state.rows.length, items: state.rows.slice(offset, offset + limit).map(entry) },
    };
  }

  function wave(): Wave {
    return state.phase === 'compile' ? 'compile' : state.phase === 'resolve' ? 'resolve' : state.phase;
  }

  function setOutcome(agentId: string, outcome: AgentOutcome, error?: string): void {
    const i = index.get(agentId);
    if (i === undefined) return;
    state.rows[i][2] = outcome;
    state.rows[i][3] = error ? error.slice(0, ERROR_TEXT_LIMIT_CHARS) : null;
    changed++;
  }

  function historyIsLarge(): boolean {
    const info = workflowInfo();
    return info.historyLength > LEGACY_CONTINUE_AS_NEW_AFTER_EVENTS || info.historySize > CONTINUE_AS_NEW_AFTER_BYTES || info.continueAsNewSuggested;
  }

  /** Once the rollout has stopped, the deadline no longer applies: the rollback must run to its end. */
  function msUntilDeadline(): number | undefined {
    if (state.deadlineAt === null || state.stopReason !== null) return undefined;
    return Math.max(0, state.deadlineAt - Date.now());
  }

  /** Waits until something changes or the deadline passes; the deadline is a durable timer, not a run timeout. */
  async function waitForChange(): Promise<void> {
    const seen = changed;
    const timeout = msUntilDeadline();
    if (timeout === 0) {
      stop('deadline-exceeded');
      return;
    }
    if (timeout === undefined) {
      await condition(() => changed !== seen);
      return;
    }
    const happened = await condition(() => changed !== seen, timeout);
    if (!happened) stop('deadline-exceeded');
  }

  /** Asks in-flight children to stop and roll back; a child that already finished simply ignores it. */
  const abortSent = new Set<string>();
  async function abortInFlight(reason: string): Promise<void> {
    const targets = [...inFlight].filter((agentId) => !abortSent.has(agentId));
    targets.forEach((agentId) => abortSent.add(agentId));
    await Promise.all(
      targets.map((agentId) =>
        getExternalWorkflowHandle(childWorkflowId(input.injectionId, agentId))
          .signal(abortAgentSignal, reason)
          .catch(() => undefined),
      ),
    );
  }

  function dockerQueue(host: string): string {
    return dockerHostTaskQueue(input.taskQueue, host);
  }

  /**
   * Runs one child for `agentId` as part of the window. Started non-cancellable: this workflow decides when a child
   * stops (abortAgentSignal), so even a cancelled parent learns every child's real outcome before it reports.
   */
  function track<T>(agentId: string, start: () => Promise<T>, settle: (result: T) => void, failedOutcome: AgentOutcome): void {
    inFlight.add(agentId);
    void CancellationScope.nonCancellable(start).then(
      (result) => {
        settle(result);
        inFlight.delete(agentId);
      },
      (err: unknown) => {
        setOutcome(agentId, failedOutcome, `child workflow failed: ${err instanceof Error ? err.message : String(err)}`);
        inFlight.delete(agentId);
      },
    );
  }

  function childSearchAttributes(agentId: string, status: string) {
    return [
      { key: INJECTION_ID, value: input.injectionId },
      { key: AGENT_ID, value: agentId },
      { key: INJECTION_STATUS, value: status },
    ];
  }

  function launchInjection(row: AgentRow, program: Extract<CompiledProgram, { ok: true }>): void {
    const [agentId, host] = row;
    setOutcome(agentId, 'running');
    const start = () =>
      executeChild(agentInjectionWorkflow, {
        workflowId: childWorkflowId(input.injectionId, agentId),
        // On the agent's host queue: the worker next to its Docker engine runs it and its local activities.
        taskQueue: dockerQueue(host ?? ''),
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        typedSearchAttributes: childSearchAttributes(agentId, 'running'),
        priority,
        args: [
          {
            injectionId: input.injectionId,
            agentId,
            dockerTaskQueue: dockerQueue(host ?? ''),
            bytecodeBase64: program.bytecodeBase64,
            programId: program.programId,
            sha256: program.sha256,
            traceTimeoutMs: program.rollout.traceTimeoutMs,
            retries: program.rollout.retries,
          },
        ],
      });
    const settle = (result: AgentInjectionResult) => {
      const reason = result.error ? `${result.error.code}: ${result.error.message}` : undefined;
      const rollbackReason = result.rollbackError ? `; rollback: ${result.rollbackError.code}: ${result.rollbackError.message}` : '';
      setOutcome(agentId, result.outcome, reason ? reason + rollbackReason : undefined);
    };
    track(agentId, start, settle, 'rollback-failed');
  }

  function launchRollback(row: AgentRow, program: Extract<CompiledProgram, { ok: true }>): void {
    const [agentId, host] = row;
    const start = () =>
      executeChild(agentRollbackWorkflow, {
        workflowId: rollbackWorkflowId(input.injectionId, agentId),
        taskQueue: dockerQueue(host ?? ''),
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: childSearchAttributes(agentId, 'rolling-back'),
        priority,
        args: [{ injectionId: input.injectionId, agentId, dockerTaskQueue: dockerQueue(host ?? ''), traceTimeoutMs: program.rollout.traceTimeoutMs, retries: program.rollout.retries }],
      });
    const settle = (result: AgentRollbackResult) => {
      if (result.outcome === 'rolled-back') setOutcome(agentId, 'reverted', `reverted: ${state.stopReason}`);
      else setOutcome(agentId, 'revert-failed', `revert failed: ${result.error?.code}: ${result.error?.message}`);
    };
    track(agentId, start, settle, 'revert-failed');
  }

  /**
   * The sliding window: keeps up to maxParallel children in flight over the rows `eligible` picks, stops launching
   * when paused or stopped, and returns when nothing is in flight and nothing more may start.
   * Returns 'continue-as-new' when the history has grown large and the window has drained.
   */
  async function runWindow(
    eligible: (row: AgentRow) => boolean,
    launch: (row: AgentRow) => void,
    stopsLaunching: () => boolean,
    afterEach: () => void,
  ): Promise<'done' | 'continue-as-new'> {
    let cursor = 0;
    for (;;) {
      const draining = historyIsLarge();
      while (!state.paused && !stopsLaunching() && !draining && inFlight.size < maxParallel()) {
        while (cursor < state.rows.length && !eligible(state.rows[cursor])) cursor++;
        if (cursor >= state.rows.length) break;
        launch(state.rows[cursor]);
        cursor++;
      }
      const more = cursor < state.rows.length && state.rows.slice(cursor).some(eligible);
      if (inFlight.size === 0 && (stopsLaunching() || !more)) return 'done';
      if (inFlight.size === 0 && draining) return 'continue-as-new';
      const before = inFlight.size;
      await waitForChange();
      if (inFlight.size < before) afterEach();
      if (stopsLaunching() && inFlight.size > 0) await abortInFlight(`rollout stopped: ${state.stopReason}`);
    }
  }

  async function continueAsNextRun(): Promise<never> {
    state.historyEventsPerRun.push(workflowInfo().historyLength);
    state.run++;
    await condition(allHandlersFinished);
    return await continueAsNew<(input: SwarmInjectionRunInput) => Promise<SwarmInjectionResult>>({ ...input, carried: state });
  }

  try {
    setStatus();
    // 1. Compile, in an activity so a compiler upgrade never changes a replay.
    if (state.phase === 'compile') {
      const { compileProgram } = proxyActivities<InjectorActivities>({ startToCloseTimeout: COMPILE_ACTIVITY_TIMEOUT, taskQueue: mainTaskQueue(input.taskQueue), priority });
      const compiled = await compileProgram({ injectionId: input.injectionId, source: input.source, context: input.context });
      if (!compiled.ok) {
        upsertSearchAttributes([{ key: INJECTION_STATUS, value: 'compile-failed' }]);
        throw ApplicationFailure.create({
          message: `the program does not compile: ${compiled.diagnostics.filter((d) => d.severity === 'error').length} error(s)`,
          type: 'COMPILE_FAILED',
          nonRetryable: true,
          details: [compiled.diagnostics],
        });
      }
      state.program = compiled;
      state.deadlineAt = Date.now() + compiled.rollout.deadlineMs;
      state.phase = 'resolve';
      setStatus();
    }
    const program = state.program!;

    // 2. Resolve targets on every Docker host; an unknown id is a failed target, not a crash.
    if (state.phase === 'resolve') {
      const selector =
        input.targets && 'agentIds' in input.targets
          ? { agentIds: input.targets.agentIds }
          : input.targets && 'group' in input.targets
            ? { group: input.targets.group }
            : program.rollout.target
              ? { group: program.rollout.target }
              : null;
      if (!selector) {
        throw ApplicationFailure.create({ message: 'no targets: give agent ids or a group, or set TARGET in the program', type: 'NO_TARGETS', nonRetryable: true });
      }
      const found = new Map<string, string>();
      const duplicates: string[] = [];
      for (const host of input.dockerHosts) {
        const { listAgents } = proxyActivities<DockerActivities>({ startToCloseTimeout: RESOLVE_ACTIVITY_TIMEOUT, taskQueue: dockerQueue(host), priority });
        const listed = await listAgents(selector);
        for (const agentId of listed.agentIds) {
          if (found.has(agentId)) duplicates.push(agentId);
          else found.set(agentId, host);
        }
      }
      const ordered = 'agentIds' in selector ? [...new Set(selector.agentIds)] : [...found.keys()].sort();
      if (ordered.length > MAX_TARGET_AGENTS) {
        throw ApplicationFailure.create({
          message: `${ordered.length} agents match, over the limit of ${MAX_TARGET_AGENTS} per injection: split the group into several injections`,
          type: 'TOO_MANY_TARGETS',
          nonRetryable: true,
        });
      }
      state.rows = ordered.map((agentId): AgentRow => {
        if (duplicates.includes(agentId)) return [agentId, null, 'not-found', `agent id ${agentId} is on more than one Docker host`];
        const host = found.get(agentId);
        return host ? [agentId, host, 'pending', null] : [agentId, null, 'not-found', `no container labelled dreamnet.agent=${agentId} on hosts ${input.dockerHosts.join(', ')}`];
      });
      state.rows.forEach((row, i) => index.set(row[0], i));
      const launchable = state.rows.filter((row) => row[2] === 'pending').length;
      state.canaryCount = canarySize(program.rollout.canary, launchable);
      state.phase = state.canaryCount > 0 ? 'canary' : 'main';
      changed++;
      setStatus();
    }

    const total = state.rows.length;
    const budget = allowedFailures(program.rollout.maxFailures, total);
    const overBudget = (failures: number, allowed: number) => failures > allowed;
    // Unknown targets alone can spend the budget: then nothing is launched at all.
    if ((state.phase === 'canary' || state.phase === 'main') && state.stopReason === null && overBudget(counts().failed, budget)) {
      stop('failure-budget-exceeded');
      state.phase = 'rollback';
    }

    // 3a. Canary wave: the first CANARY launchable agents.
    if (state.phase === 'canary') {
      // The first CANARY agents that were found: stable across continue-as-new, since found/not-found never changes.
      const canaryIds = new Set(state.rows.filter((row) => row[1] !== null).slice(0, state.canaryCount).map((row) => row[0]));
      const canaryBudget = program.rollout.maxFailures.kind === 'count' ? budget : allowedFailures(program.rollout.maxFailures, canaryIds.size);
      const canaryFailures = () => state.rows.filter((row) => canaryIds.has(row[0]) && FAILURE_OUTCOMES.has(row[2])).length;
      const ended = await runWindow(
        (row) => canaryIds.has(row[0]) && row[2] === 'pending',
        (row) => launchInjection(row, program),
        () => state.stopReason !== null,
        () => {
          if (overBudget(canaryFailures(), canaryBudget) || overBudget(counts().failed, budget)) stop('canary-failed');
        },
      );
      if (ended === 'continue-as-new') return await continueAsNextRun();
      if (state.stopReason === null && overBudget(canaryFailures(), canaryBudget)) stop('canary-failed');
      state.phase = state.stopReason ? 'rollback' : 'main';
      setStatus();
    }

    // 3b. The rest, in a sliding window.
    if (state.phase === 'main') {
      const ended = await runWindow(
        (row) => row[2] === 'pending',
        (row) => launchInjection(row, program),
        () => state.stopReason !== null,
        () => {
          if (overBudget(counts().failed, budget)) stop('failure-budget-exceeded');
        },
      );
      if (ended === 'continue-as-new') return await continueAsNextRun();
      if (state.stopReason === null && overBudget(counts().failed, budget)) stop('failure-budget-exceeded');
      state.phase = state.stopReason ? 'rollback' : 'done';
      setStatus();
    }

    // 4. Swarm-wide rollback of every agent this injection changed, itself limited by maxParallel.
    if (state.phase === 'rollback') {
      const ended = await CancellationScope.nonCancellable(() => rollBackSwarm(program));
      if (ended === 'continue-as-new') return await continueAsNextRun();
    }
    return finish();
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // `temporal workflow cancel`: stop, let in-flight children roll themselves back, revert the rest, then report.
    await CancellationScope.nonCancellable(async () => {
      stop('cancelled');
      if (state.program) {
        state.phase = 'rollback';
        await abortInFlight('the injection was cancelled');
        await condition(() => inFlight.size === 0);
        await rollBackSwarm(state.program);
      }
      state.phase = 'done';
      setStatus();
    });
    throw err;
  }

  async function rollBackSwarm(program: Extract<CompiledProgram, { ok: true }>): Promise<'done' | 'continue-as-new'> {
    // Agents never launched stay untouched.
    for (const row of state.rows) if (row[2] === 'pending') setOutcome(row[0], 'skipped', `not started: ${state.stopReason}`);
    setStatus();
    return await runWindow(
      (row) => row[2] === 'injected',
      (row) => launchRollback(row, program),
      () => false,
      () => undefined,
    );
  }

  function finish(): SwarmInjectionResult {
    state.phase = 'done';
    setStatus();
    state.historyEventsPerRun.push(workflowInfo().historyLength);
    return {
      injectionId: input.injectionId,
      status: finalStatus(),
      counts: counts(),
      deadlineExceeded: state.stopReason === 'deadline-exceeded',
      rollout: rollout(),
      diagnostics: state.program?.diagnostics ?? [],
      agents: state.rows.map(entry),
      runs: state.run,
      historyEventsPerRun: state.historyEventsPerRun,
      startedAt: state.startedAt,
      finishedAt: new Date().toISOString(),
    };
  }
}
