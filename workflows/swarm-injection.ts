// One swarm injection: compile, resolve targets, take the agents' leases, then let the rollout core drive canary,
// window, stop and rollback; this file wires the core to Temporal (children, signals, timers, continue-as-new).
import type {
  ChildWorkflowHandle} from '@temporalio/workflow';
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CompiledProgram, DockerActivities, InjectorActivities } from '../activities';
import type { LeaseActivities } from '../activities/lease-activities';
import type { RolloutSettings } from '../src/compiler';
import type { Launch, RolloutState, RowOutcome, StopReason} from '../src/rollout/rollout-core';
import { Rollout, initialState } from '../src/rollout/rollout-core';
import type {
  AgentInjectionResult,
  AgentRollbackResult,
  AgentStatusEntry,
  OperatorAction,
  ProgramRef,
  RecordedAction,
  SwarmInjectionInput,
  SwarmInjectionResult,
  SwarmProgress,
  SwarmStatus,
  Wave,
} from '../src/shared/injection-types';
import { MAX_TARGET_AGENTS, PRIORITY_KEY, RESULT_AGENT_ROWS, childWorkflowId, rollbackWorkflowId } from '../src/shared/injection-types';
import { leaseShardOf, leaseShardWorkflowId } from '../src/shared/leases';
import { AGENT_ID, INJECTION_ID, INJECTION_STATUS } from '../src/shared/search-attributes';
import { dockerHostTaskQueue, mainTaskQueue } from '../src/shared/task-queues';
import { agentInjectionSummary, agentRollbackSummary } from '../src/shared/ui-summaries';
import {
  COMPILE_ACTIVITY_TIMEOUT,
  CONTINUE_AS_NEW_AFTER_BYTES,
  CONTINUE_AS_NEW_AFTER_EVENTS,
  LEASE_ACTIVITY_TIMEOUT,
  RESOLVE_ACTIVITY_TIMEOUT,
} from '../src/shared/timeouts';
import { abortAgentSignal, leasesGrantedSignal, releaseLeasesSignal, releaseProgramSignal } from '../src/contracts/messages';
import { AGENT_STEPS_VERSION, agentInjectionWorkflow, agentRollbackWorkflow } from './agent-injection';
import type { LegacyCarriedState} from './legacy/swarm-injection-v1';
import { legacySwarmInjection } from './legacy/swarm-injection-v1';
import { abortSignal, pauseSignal, progressQuery, resumeSignal, setMaxParallelUpdate } from '../src/contracts/messages';
import { ERROR_TEXT_LIMIT_CHARS, MAX_PARALLEL_LIMIT, PROGRESS_PAGE_LIMIT } from '../src/contracts/swarm-progress';

export { abortSignal, pauseSignal, progressQuery, resumeSignal, setMaxParallelUpdate } from '../src/contracts/messages';
export { ERROR_TEXT_LIMIT_CHARS, MAX_PARALLEL_LIMIT, PROGRESS_PAGE_LIMIT } from '../src/contracts/swarm-progress';

/**
 * Injections started by this build run the rollout core, take leases and hold their program by reference. Histories of
 * the builds before (no marker) replay the legacy code, unchanged.
 */
export const ROLLOUT_CORE_PATCH = 'rollout-core';
/**
 * Runs started by this build upsert the status search attribute only when it changes: before, every loop turn and
 * every signal wrote one UpsertWorkflowSearchAttributes event, about one in seven of a large swarm's events.
 */
export const STATUS_ON_CHANGE_PATCH = 'status-on-change';
/**
 * Runs started by this build keep one durable timer for the deadline per run: before, every wait of the rollout loop
 * started a timer until the deadline and cancelled it when a child settled, two events per wait (about one in ten of a
 * large swarm's events) and a timer task on the server for each.
 */
export const ONE_DEADLINE_TIMER_PATCH = 'one-deadline-timer';
/** Actions kept in the record of who steered an injection. */
export const MAX_RECORDED_ACTIONS = 50;
export const MIN_CONTINUE_AS_NEW_EVENTS = 200;
const WAITING_SHOWN = 50;

type Stage = 'compile' | 'resolve' | 'lease' | 'rollout' | 'done';

/** Everything a run hands to the next one through continue-as-new. */
interface CarriedState {
  v: 2;
  startedAt: string;
  deadlineAt: number | null;
  program: (ProgramRef & { rollout: RolloutSettings; diagnostics: Extract<CompiledProgram, { ok: true }>['diagnostics'] }) | null;
  stage: Stage;
  /** A stop that came before the rollout began (abort or cancel while compiling or resolving). */
  earlyStop: StopReason | null;
  earlyPause: boolean;
  /** A maxParallel set before the rollout began: the core takes it when it starts. */
  earlyMaxParallel: number | null;
  rollout: RolloutState | null;
  /** Lease shards this injection asked: released at the end. */
  leaseShards: number[];
  run: number;
  historyEventsPerRun: number[];
  actions: RecordedAction[];
}

export interface SwarmInjectionRunInput extends SwarmInjectionInput {
  carried?: CarriedState | LegacyCarriedState;
}

function isCurrent(carried: CarriedState | LegacyCarriedState): carried is CarriedState {
  return (carried as CarriedState).v === 2;
}

export async function swarmInjectionWorkflow(input: SwarmInjectionRunInput): Promise<SwarmInjectionResult> {
  if (input.carried ? !isCurrent(input.carried) : !patched(ROLLOUT_CORE_PATCH)) {
    return legacySwarmInjection(input as Parameters<typeof legacySwarmInjection>[0]);
  }
  const state: CarriedState = (input.carried as CarriedState | undefined) ?? {
    v: 2,
    startedAt: new Date().toISOString(),
    deadlineAt: null,
    program: null,
    stage: 'compile',
    earlyStop: null,
    earlyPause: false,
    earlyMaxParallel: null,
    rollout: null,
    leaseShards: [],
    run: 1,
    historyEventsPerRun: [],
    actions: [],
  };
  let core: Rollout | null = state.rollout ? new Rollout(state.rollout) : null;
  /** Children in flight: agent id → its handle once the server confirmed the start (null until then). */
  const inFlight = new Map<string, ChildWorkflowHandle<typeof agentInjectionWorkflow> | null>();
  const abortSent = new Set<string>();
  let changed = 0; // bumped whenever something the main loop waits on happens
  /** `temporal workflow cancel` on this run: re-raised at the end, so the Web UI shows the injection as cancelled. */
  let cancellation: unknown = null;
  const priority = { priorityKey: PRIORITY_KEY[input.priority] };
  const continueAsNewAfterEvents = Math.max(MIN_CONTINUE_AS_NEW_EVENTS, Math.min(CONTINUE_AS_NEW_AFTER_EVENTS, input.limits?.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS));

  const record = (action: RecordedAction['action'], by: OperatorAction | undefined, detail?: string) => {
    state.actions.push({ at: new Date().toISOString(), action, by: by?.by ?? 'temporal-cli', ...(by?.requestId ? { requestId: by.requestId } : {}), ...(detail ? { detail: detail.slice(0, ERROR_TEXT_LIMIT_CHARS) } : {}) });
    if (state.actions.length > MAX_RECORDED_ACTIONS) state.actions.splice(0, state.actions.length - MAX_RECORDED_ACTIONS);
    log.info('operator action', { action, by: by?.by ?? 'temporal-cli', detail });
  };
  const stop = (reason: StopReason) => {
    if (core) core.stop(reason);
    else state.earlyStop ??= reason;
    changed++;
    setStatus();
  };

  setHandler(pauseSignal, (action) => {
    record('pause', action);
    if (core) core.pause();
    else state.earlyPause = true;
    changed++;
    setStatus();
  });
  setHandler(resumeSignal, (action) => {
    record('resume', action);
    if (core) core.resume();
    else state.earlyPause = false;
    changed++;
    setStatus();
  });
  setHandler(abortSignal, (reason, action) => {
    record('abort', action, reason);
    stop('aborted');
  });
  setHandler(leasesGrantedSignal, ({ agentIds }) => {
    core?.granted(agentIds);
    changed++;
    setStatus();
  });
  setHandler(
    setMaxParallelUpdate,
    (value: number, action?: OperatorAction) => {
      record('set-max-parallel', action, String(value));
      if (core) {
        changed++;
        return core.setMaxParallel(value);
      }
      const previous = state.earlyMaxParallel ?? state.program?.rollout.maxParallel ?? 1;
      state.earlyMaxParallel = value;
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

  function status(): SwarmStatus {
    if (state.stage === 'compile') return 'compiling';
    if (state.stage === 'resolve' || state.stage === 'lease') return state.earlyStop ? 'rolling-back' : 'resolving';
    if (!core) return state.earlyStop ?? 'succeeded';
    return core.status();
  }

  function wave(): Wave {
    if (state.stage === 'compile' || state.stage === 'resolve' || state.stage === 'lease') return state.stage;
    return core?.state.phase ?? 'done';
  }

  /** Also sets InjectionId, so a swarm started without it (e.g. by `temporal workflow start`) is still found by it. */
  let upsertedStatus: SwarmStatus | null = null;
  function setStatus(): void {
    const current = status();
    if (current === upsertedStatus && patched(STATUS_ON_CHANGE_PATCH)) return;
    upsertedStatus = current;
    upsertSearchAttributes([
      { key: INJECTION_ID, value: input.injectionId },
      { key: INJECTION_STATUS, value: current },
    ]);
  }

  function entry(agentId: string, host: string | null, outcome: RowOutcome, note: string | null): AgentStatusEntry {
    const started = outcome !== 'pending' && outcome !== 'waiting' && outcome !== 'skipped' && outcome !== 'not-found';
    return { agentId, host, outcome, childWorkflowId: started ? childWorkflowId(input.injectionId, agentId) : null, ...(note ? { error: note } : {}) };
  }

  function entries(offset: number, limit: number): AgentStatusEntry[] {
    if (!core) return [];
    return core.state.rows.slice(offset, offset + limit).map((row) => entry(row[0], row[1] === null ? null : core!.state.hosts[row[1]], row[2], core!.noteOf(row)));
  }

  function progress(page?: { offset?: number; limit?: number }): SwarmProgress {
    const offset = Math.max(0, Math.floor(page?.offset ?? 0));
    const limit = Math.min(PROGRESS_PAGE_LIMIT, Math.max(1, Math.floor(page?.limit ?? 50)));
    const r = state.program?.rollout ?? null;
    const stopped = core ? core.state.stopReason !== null : state.earlyStop !== null;
    return {
      injectionId: input.injectionId,
      status: status(),
      wave: wave(),
      paused: core ? core.state.paused : state.earlyPause,
      maxParallel: core ? core.maxParallel : (state.earlyMaxParallel ?? r?.maxParallel ?? 1),
      counts: core ? core.counts() : emptyCounts(),
      failureBudget: core ? core.failureBudget() : 0,
      deadline: state.deadlineAt === null ? null : new Date(state.deadlineAt).toISOString(),
      // Once stopped the deadline no longer applies (the rollback runs to its end); never NaN.
      msUntilDeadline: state.deadlineAt === null || stopped || state.stage === 'done' ? null : Math.max(0, state.deadlineAt - Date.now()),
      run: state.run,
      rollout: r,
      agents: { offset, limit, total: core?.total ?? 0, items: entries(offset, limit) },
      waitingFor: core ? core.waitingFor(WAITING_SHOWN) : [],
      actions: state.actions,
    };
  }

  function historyIsLarge(): boolean {
    const info = workflowInfo();
    return info.historyLength > continueAsNewAfterEvents || info.historySize > CONTINUE_AS_NEW_AFTER_BYTES || info.continueAsNewSuggested;
  }

  /** Once the rollout has stopped, the deadline no longer applies: the rollback must run to its end. */
  function msUntilDeadline(): number | undefined {
    const stopped = core ? core.state.stopReason !== null : state.earlyStop !== null;
    if (state.deadlineAt === null || stopped) return undefined;
    return Math.max(0, state.deadlineAt - Date.now());
  }

  /** Waits until something changes or the deadline passes; the deadline is a durable timer, not a run timeout. */
  async function waitForChange(): Promise<void> {
    const seen = changed;
    const timeout = msUntilDeadline();
    if (timeout === 0) return stop('deadline-exceeded');
    if (timeout === undefined) {
      await condition(() => changed !== seen);
      return;
    }
    if (!patched(ONE_DEADLINE_TIMER_PATCH)) {
      if (!(await condition(() => changed !== seen, timeout))) stop('deadline-exceeded');
      return;
    }
    armDeadline(timeout);
    await condition(() => changed !== seen || deadlinePassed);
    if (changed === seen) stop('deadline-exceeded');
  }

  /**
   * The run's one deadline timer, started at the first wait that has a deadline. Non-cancellable: a cancelled
   * injection still rolls back to its end, and the deadline no longer applies to it (msUntilDeadline).
   */
  let deadlineArmed = false;
  let deadlinePassed = false;
  function armDeadline(timeout: number): void {
    if (deadlineArmed) return;
    deadlineArmed = true;
    void CancellationScope.nonCancellable(() => sleep(timeout)).then(() => {
      deadlinePassed = true;
    });
  }

  function dockerQueue(host: string): string {
    return dockerHostTaskQueue(input.taskQueue, host);
  }

  function childSearchAttributes(agentId: string, childStatus: string) {
    return [
      { key: INJECTION_ID, value: input.injectionId },
      { key: AGENT_ID, value: agentId },
      { key: INJECTION_STATUS, value: childStatus },
    ];
  }

  /** Tells a started child to stop and roll itself back, once; a child that has not started yet is told when it has. */
  function abortIfStopped(agentId: string): void {
    const handle = inFlight.get(agentId);
    if (!handle || abortSent.has(agentId) || !core?.mustAbort(agentId)) return;
    abortSent.add(agentId);
    // A child that has already finished cannot be signalled; its result arrives anyway.
    void handle.signal(abortAgentSignal, `rollout stopped: ${core.state.stopReason}`).catch(() => undefined);
  }

  function failureNote(error: { code: string; message: string } | undefined, rollbackError?: { code: string; message: string }): string | null {
    if (!error) return null;
    return rollbackError ? `${error.code}/ROLLBACK_${rollbackError.code}` : error.code;
  }

  /**
   * Runs one child as part of the window. Started non-cancellable: this workflow decides when a child stops
   * (abortAgentSignal), so even a cancelled parent learns every child's real outcome before it reports.
   */
  function launch(step: Launch, program: NonNullable<CarriedState['program']>): void {
    const { agentId, host } = step;
    inFlight.set(agentId, null);
    const settle = (fn: () => void) => {
      fn();
      inFlight.delete(agentId);
      abortSent.delete(agentId);
      changed++;
    };
    void CancellationScope.nonCancellable(async () => {
      if (step.kind === 'inject') {
        const handle = await startChild(agentInjectionWorkflow, {
          workflowId: childWorkflowId(input.injectionId, agentId),
          // On the agent's host queue: the worker next to its Docker engine runs it and its local activities.
          taskQueue: dockerQueue(host),
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          typedSearchAttributes: childSearchAttributes(agentId, 'running'),
          priority,
          staticSummary: agentInjectionSummary(agentId, program.programId, program.sha256),
          args: [
            {
              injectionId: input.injectionId,
              agentId,
              dockerTaskQueue: dockerQueue(host),
              program: { holderWorkflowId: program.holderWorkflowId, sha256: program.sha256, programId: program.programId, bytes: program.bytes },
              programId: program.programId,
              sha256: program.sha256,
              traceTimeoutMs: program.rollout.traceTimeoutMs,
              stepsVersion: AGENT_STEPS_VERSION,
              retries: program.rollout.retries,
            },
          ],
        });
        inFlight.set(agentId, handle);
        abortIfStopped(agentId);
        const result: AgentInjectionResult = await handle.result();
        settle(() => core!.injectionSettled(agentId, result.outcome, result.outcome === 'superseded' ? (result.supersededBy ?? 'SUPERSEDED') : failureNote(result.error, result.rollbackError)));
      } else {
        const result: AgentRollbackResult = await (
          await startChild(agentRollbackWorkflow, {
            workflowId: rollbackWorkflowId(input.injectionId, agentId),
            taskQueue: dockerQueue(host),
            parentClosePolicy: ParentClosePolicy.ABANDON,
            typedSearchAttributes: childSearchAttributes(agentId, 'rolling-back'),
            priority,
            staticSummary: agentRollbackSummary(agentId, input.injectionId),
            args: [{ injectionId: input.injectionId, agentId, dockerTaskQueue: dockerQueue(host), traceTimeoutMs: program.rollout.traceTimeoutMs, retries: program.rollout.retries }],
          })
        ).result();
        const end = result.outcome === 'rolled-back' ? 'reverted' : result.outcome === 'superseded' ? 'revert-superseded' : 'revert-failed';
        settle(() => core!.revertSettled(agentId, end, end === 'reverted' ? null : end === 'revert-superseded' ? (result.supersededBy ?? 'SUPERSEDED') : (result.error?.code ?? 'REVERT_FAILED')));
      }
    }).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      log.error('child workflow failed', { agentId, kind: step.kind, message });
      settle(() => {
        if (step.kind === 'inject') core!.injectionSettled(agentId, 'rollback-failed', 'CHILD_WORKFLOW_FAILED');
        else core!.revertSettled(agentId, 'revert-failed', 'CHILD_WORKFLOW_FAILED');
      });
    });
  }

  /**
   * The rollout loop: whatever the core says to launch, launched; every stop answered by aborting what is in flight;
   * returns when the core has finished, or 'continue-as-new' once the history is large and nothing is in flight.
   */
  async function drive(program: NonNullable<CarriedState['program']>): Promise<'done' | 'continue-as-new'> {
    const rollout = core!;
    for (;;) {
      const draining = historyIsLarge();
      for (const step of rollout.next(inFlight.size, draining)) launch(step, program);
      for (const agentId of inFlight.keys()) abortIfStopped(agentId);
      setStatus();
      if (rollout.finished(inFlight.size)) return 'done';
      if (draining && inFlight.size === 0) return 'continue-as-new';
      await waitForChange();
    }
  }

  async function continueAsNextRun(): Promise<never> {
    state.historyEventsPerRun.push(workflowInfo().historyLength);
    state.run++;
    state.rollout = core?.state ?? null;
    await condition(allHandlersFinished);
    // Once compiled, the program lives in its holder: the next run's input need not carry the source again (at 10,000
    // agents and a 240 KB source that copy put the input over the SDK's 512 KiB payload warning).
    return await continueAsNew<typeof swarmInjectionWorkflow>({ ...input, source: state.stage === 'compile' ? input.source : '', carried: state });
  }

  /** The stages before the rollout, then the rollout; 'continue-as-new' when the run should hand over. */
  async function run(): Promise<'done' | 'continue-as-new'> {
    setStatus();
    // 1. Compile, in an activity so a compiler upgrade never changes a replay; the program goes to its holder.
    if (state.stage === 'compile') {
      const { compileProgram } = proxyActivities<InjectorActivities>({ startToCloseTimeout: COMPILE_ACTIVITY_TIMEOUT, taskQueue: mainTaskQueue(input.taskQueue), priority });
      const compiled = await compileProgram({ injectionId: input.injectionId, source: input.source, context: input.context, holdProgram: true });
      if (!compiled.ok) {
        upsertSearchAttributes([{ key: INJECTION_STATUS, value: 'compile-failed' }]);
        throw ApplicationFailure.create({
          message: `the program does not compile: ${compiled.diagnostics.filter((d) => d.severity === 'error').length} error(s)`,
          type: 'COMPILE_FAILED',
          nonRetryable: true,
          details: [compiled.diagnostics],
        });
      }
      if (!compiled.held) throw ApplicationFailure.nonRetryable('the compile step returned no program reference', 'PROGRAM_NOT_HELD');
      state.program = { ...compiled.held, rollout: compiled.rollout, diagnostics: compiled.diagnostics };
      state.deadlineAt = Date.now() + compiled.rollout.deadlineMs;
      state.stage = 'resolve';
      setStatus();
    }
    const program = state.program!;

    // 2. Resolve targets on every Docker host; an unknown id is a failed target, not a crash.
    if (state.stage === 'resolve') {
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
      const duplicates = new Set<string>();
      for (const host of input.dockerHosts) {
        const { listAgents } = proxyActivities<DockerActivities>({ startToCloseTimeout: RESOLVE_ACTIVITY_TIMEOUT, taskQueue: dockerQueue(host), priority });
        const listed = await listAgents(selector);
        for (const agentId of listed.agentIds) {
          if (found.has(agentId)) duplicates.add(agentId);
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
      state.rollout = initialState({ agentIds: ordered, found, duplicates, settings: { maxParallel: program.rollout.maxParallel, maxFailures: program.rollout.maxFailures, canary: program.rollout.canary } });
      core = new Rollout(state.rollout);
      if (state.earlyPause) core.pause();
      if (state.earlyMaxParallel !== null) core.setMaxParallel(state.earlyMaxParallel);
      state.stage = 'lease';
      setStatus();
    }
    const rollout = core!;

    // 3. Leases: at most one injection changes an agent at a time.
    if (state.stage === 'lease') {
      const agentIds = rollout.state.rows.filter((row) => row[1] !== null).map((row) => row[0]);
      state.leaseShards = [...new Set(agentIds.map(leaseShardOf))].sort((a, b) => a - b);
      if (agentIds.length > 0 && state.earlyStop === null) {
        const { acquireLeases } = proxyActivities<LeaseActivities>({ startToCloseTimeout: LEASE_ACTIVITY_TIMEOUT, taskQueue: mainTaskQueue(input.taskQueue), priority });
        const mode = input.onBusy ?? 'wait';
        const answer = await acquireLeases({ holder: input.injectionId, agentIds, mode });
        if (mode === 'refuse' && answer.busy.length > 0) {
          rollout.stop('aborted');
          upsertSearchAttributes([{ key: INJECTION_STATUS, value: 'agent-busy' }]);
          throw ApplicationFailure.create({
            message: `${answer.busy.length} of the agents are held by another injection (${[...new Set(answer.busy.map((b) => b.holder))].slice(0, 5).join(', ')}); nothing was changed`,
            type: 'AGENT_BUSY',
            nonRetryable: true,
            details: [answer.busy.slice(0, 100)],
          });
        }
        const byHolder = new Map<string, string[]>();
        for (const { agentId, holder } of answer.busy) byHolder.set(holder, [...(byHolder.get(holder) ?? []), agentId]);
        for (const [holder, ids] of byHolder) rollout.waitFor(ids, holder);
      }
      if (state.earlyStop !== null) rollout.stop(state.earlyStop);
      state.stage = 'rollout';
      setStatus();
    }

    // 4. The rollout: canary, window, and on any stop the swarm-wide rollback.
    return drive(program);
  }

  let ended: 'done' | 'continue-as-new';
  try {
    ended = await run();
  } catch (err) {
    if (!isCancellation(err)) {
      await releaseAll();
      throw err;
    }
    // `temporal workflow cancel`: stop, let in-flight children roll themselves back, revert the rest, then report.
    cancellation = err;
    record('cancel', undefined);
    ended = await CancellationScope.nonCancellable(async () => {
      stop('cancelled');
      if (!core || !state.program) return 'done' as const;
      if (state.stage !== 'rollout') state.stage = 'rollout';
      return drive(state.program);
    });
  }
  if (ended === 'continue-as-new') return await CancellationScope.nonCancellable(() => continueAsNextRun());
  await CancellationScope.nonCancellable(() => releaseAll());
  const result = finish();
  if (cancellation !== null) throw cancellation;
  return result;

  /** Gives back every lease and lets the program holder end; neither may fail the injection. */
  async function releaseAll(): Promise<void> {
    await Promise.all([
      ...state.leaseShards.map((shard) => getExternalWorkflowHandle(leaseShardWorkflowId(mainTaskQueue(input.taskQueue), shard)).signal(releaseLeasesSignal, { holder: input.injectionId }).catch(() => undefined)),
      state.program ? getExternalWorkflowHandle(state.program.holderWorkflowId).signal(releaseProgramSignal).catch(() => undefined) : Promise.resolve(),
    ]);
  }

  function finish(): SwarmInjectionResult {
    state.stage = 'done';
    setStatus();
    state.historyEventsPerRun.push(workflowInfo().historyLength);
    const total = core?.total ?? 0;
    return {
      injectionId: input.injectionId,
      status: status(),
      counts: core ? core.counts() : emptyCounts(),
      deadlineExceeded: (core?.state.stopReason ?? state.earlyStop) === 'deadline-exceeded',
      rollout: state.program?.rollout ?? null,
      diagnostics: state.program?.diagnostics ?? [],
      agents: entries(0, RESULT_AGENT_ROWS),
      agentsTotal: total,
      runs: state.run,
      historyEventsPerRun: state.historyEventsPerRun,
      startedAt: state.startedAt,
      finishedAt: new Date().toISOString(),
    };
  }
}

function emptyCounts(): ReturnType<Rollout['counts']> {
  return new Rollout(initialState({ agentIds: [], found: new Map(), settings: { maxParallel: 1, maxFailures: { kind: 'count', value: 0 }, canary: { kind: 'count', value: 0 } } })).counts();
}
