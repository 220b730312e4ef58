// Model-based test of the rollout core: random interleavings of child outcomes, operator actions, leases and
// continue-as-new, driven as the swarm workflow drives the core; every step checked by SimulatedWorkflow.
import fc from 'fast-check';
import type { Share } from '../../src/compiler/rollout';
import type { InjectionEnd, RevertEnd, StopReason } from '../../src/rollout/rollout-core';
import type { SimSetup } from './simulated-workflow';
import { SimulatedWorkflow } from './simulated-workflow';

/** Random interleavings tried; each is one whole rollout, from targets resolved to finished. */
const MODEL_RUNS = 10_000;
const MAX_AGENTS = 10;
const MAX_STEPS = 60;
const HOLDERS = ['inj-held-a', 'inj-held-b'] as const;

const INJECTION_ENDS: InjectionEnd[] = ['injected', 'injected', 'injected', 'injected', 'injected', 'failed', 'rolled-back', 'rollback-failed', 'not-found', 'superseded'];
const REVERT_ENDS: RevertEnd[] = ['reverted', 'reverted', 'revert-failed', 'revert-superseded'];
const STOP_REASONS: StopReason[] = ['aborted', 'deadline-exceeded', 'cancelled'];

type Step =
  | { t: 'tick' }
  | { t: 'drain' }
  | { t: 'inject-ended'; pick: number; end: InjectionEnd; longNote: boolean }
  | { t: 'revert-ended'; pick: number; end: RevertEnd }
  | { t: 'pause' }
  | { t: 'resume' }
  | { t: 'stop'; reason: StopReason }
  | { t: 'max-parallel'; value: number }
  | { t: 'wait'; picks: number[]; holder: number }
  | { t: 'grant'; picks: number[] }
  | { t: 'duplicate'; pick: number }
  | { t: 'continue-as-new' };

/** How the run ends once the steps are used up: an operator stop, or every lease granted and the pause lifted. */
type Ending = { t: 'stop'; reason: StopReason } | { t: 'release' };

interface Scenario {
  setup: SimSetup;
  steps: Step[];
  ending: Ending;
  /** Outcomes of the children still in flight at the end, taken in turn. */
  tail: { pick: number; inject: InjectionEnd; revert: RevertEnd }[];
}

const share = (maxCount: number): fc.Arbitrary<Share> =>
  fc.oneof(
    fc.integer({ min: 0, max: maxCount }).map((value): Share => ({ kind: 'count', value })),
    fc.integer({ min: 0, max: 100 }).map((value): Share => ({ kind: 'percent', value })),
  );

const setupArb: fc.Arbitrary<SimSetup> = fc.integer({ min: 0, max: MAX_AGENTS }).chain((n) => {
  const ids = Array.from({ length: n }, (_, i) => `agent-${i}`);
  return fc
    .record({
      notFound: fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((flags) => ids.filter((_, i) => flags[i] && i % 3 === 0)),
      busyFlags: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: n, maxLength: n }),
      maxParallel: fc.integer({ min: 1, max: 4 }),
      maxFailures: share(4),
      canary: share(n + 1),
    })
    .map(({ notFound, busyFlags, maxParallel, maxFailures, canary }): SimSetup => {
      const busy: Record<string, string[]> = {};
      ids.forEach((id, i) => {
        const holder = HOLDERS[busyFlags[i]];
        if (holder) (busy[holder] ??= []).push(id);
      });
      return { agentIds: ids, notFound, maxParallel, maxFailures, canary, busy };
    });
});

const pick = fc.nat({ max: 1_000 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Step>({ t: 'tick' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ t: 'drain' }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('inject-ended' as const), pick, end: fc.constantFrom(...INJECTION_ENDS), longNote: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('revert-ended' as const), pick, end: fc.constantFrom(...REVERT_ENDS) }) },
  { weight: 1, arbitrary: fc.constant<Step>({ t: 'pause' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ t: 'resume' }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('stop' as const), reason: fc.constantFrom(...STOP_REASONS) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('max-parallel' as const), value: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('wait' as const), picks: fc.array(pick, { maxLength: 3 }), holder: fc.nat({ max: HOLDERS.length - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('grant' as const), picks: fc.array(pick, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('duplicate' as const), pick }) },
  { weight: 2, arbitrary: fc.constant<Step>({ t: 'continue-as-new' }) },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  setup: setupArb,
  steps: fc.array(stepArb, { maxLength: MAX_STEPS }),
  ending: fc.oneof(fc.record({ t: fc.constant('stop' as const), reason: fc.constantFrom(...STOP_REASONS) }), fc.constant<Ending>({ t: 'release' })),
  tail: fc.array(fc.record({ pick, inject: fc.constantFrom(...INJECTION_ENDS), revert: fc.constantFrom(...REVERT_ENDS) }), { minLength: 1, maxLength: 8 }),
});

const LONG_NOTE = `superseded by injection ${'x'.repeat(60)}`;

function nth<T>(items: readonly T[], i: number): T | undefined {
  return items.length === 0 ? undefined : items[i % items.length];
}

function apply(sim: SimulatedWorkflow, step: Step): void {
  const ids = sim.setup.agentIds;
  switch (step.t) {
    case 'tick':
      sim.tick();
      return;
    case 'drain':
      sim.tick(true);
      return;
    case 'inject-ended': {
      const id = nth(sim.inFlightOf('inject'), step.pick);
      if (id) sim.settleInjection(id, step.end, step.longNote ? LONG_NOTE : step.end === 'injected' ? null : 'TRACE_TIMEOUT');
      return;
    }
    case 'revert-ended': {
      const id = nth(sim.inFlightOf('revert'), step.pick);
      if (id) sim.settleRevert(id, step.end, step.end === 'reverted' ? null : 'REVERT_FAILED');
      return;
    }
    case 'pause':
      sim.pause();
      return;
    case 'resume':
      sim.resume();
      return;
    case 'stop':
      sim.stop(step.reason);
      return;
    case 'max-parallel':
      sim.setMaxParallel(step.value);
      return;
    case 'wait':
      sim.waitFor(step.picks.flatMap((p) => nth(ids, p) ?? []), HOLDERS[step.holder]);
      return;
    case 'grant':
      sim.grant(step.picks.flatMap((p) => nth(sim.idsWith('waiting'), p) ?? []));
      return;
    case 'duplicate': {
      const id = nth(ids, step.pick);
      if (id) sim.duplicateReport(id);
      return;
    }
    case 'continue-as-new':
      sim.continueAsNew();
      return;
  }
}

/**
 * Plays a scenario to its end and returns the finished simulation. After the steps, the ending (a stop, or leases
 * and pause released) and then only children ending: the rollout must finish within one settle per child it can
 * still launch, and never sit with nothing in flight and nothing to do.
 */
function play({ setup, steps, ending, tail }: Scenario): SimulatedWorkflow {
  const sim = new SimulatedWorkflow(setup);
  for (const step of steps) {
    if (sim.finishedSeen) break;
    apply(sim, step);
  }
  if (!sim.finishedSeen) {
    if (ending.t === 'stop') sim.stop(ending.reason);
    else {
      sim.resume();
      sim.grant(sim.idsWith('waiting'));
    }
  }
  // Every agent can have at most one injection and one revert child: the bound on what is left.
  const bound = 2 * setup.agentIds.length + 2;
  for (let i = 0; i <= bound && !sim.finishedSeen; i++) {
    sim.tick();
    if (sim.finishedSeen) break;
    const inFlight = [...sim.inFlight];
    if (inFlight.length === 0) {
      throw new Error(`stuck: nothing in flight, not finished, status ${sim.core.status()}, rows ${JSON.stringify(sim.state.rows)}`);
    }
    const { pick: p, inject, revert } = tail[i % tail.length];
    const [id, kind] = inFlight[p % inFlight.length];
    if (kind === 'inject') sim.settleInjection(id, inject);
    else sim.settleRevert(id, revert);
    if (i % 3 === 2) sim.continueAsNew();
  }
  if (!sim.finishedSeen) throw new Error(`not finished within ${bound} settles: status ${sim.core.status()}, rows ${JSON.stringify(sim.state.rows)}`);
  return sim;
}

describe('the rollout core under random interleavings', () => {
  it(`keeps every invariant over ${MODEL_RUNS} random rollouts`, () => {
    const seen = { stopped: 0, succeeded: 0, budgetStop: 0, reverted: 0, continuedMidRollback: 0, grantedThenRun: 0, pausedAtStop: 0, raisedOrLowered: 0 };
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const sim = play(scenario);
        const reason = sim.state.stopReason;
        if (reason !== null) seen.stopped++;
        if (reason === null) seen.succeeded++;
        if (reason === 'canary-failed' || reason === 'failure-budget-exceeded') seen.budgetStop++;
        if (sim.launched.some((l) => l.kind === 'revert')) seen.reverted++;
        if (sim.continuedMidRollback) seen.continuedMidRollback++;
        if (sim.grantedThenRun) seen.grantedThenRun++;
        if (sim.pausedAtStop) seen.pausedAtStop++;
        if (sim.state.maxParallelOverride !== null) seen.raisedOrLowered++;
      }),
      { numRuns: MODEL_RUNS },
    );
    // The generator reaches every path often enough to mean something (at least 2% of the runs each).
    for (const [path, runs] of Object.entries(seen)) expect([path, runs > MODEL_RUNS / 50]).toEqual([path, true]);
  });
});
