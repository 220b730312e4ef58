// Per-agent exclusivity: at most one injection changes an agent at a time. Leases are kept by a few long-lived shard
// workflows (an agent's shard is a hash of its id), so an injection asks LEASE_SHARDS workflows, not one per agent.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { LeaseActivities } from '../activities/lease-activities';
import { acquireLeasesUpdate, leasesGrantedSignal, leasesQuery, releaseLeasesSignal } from '../src/contracts/messages';
import type { LeaseRelease } from '../src/contracts/messages';
import { LEASE_HOLDER_CHECK_INTERVAL_MS, LEASE_SHARD_CONTINUE_AS_NEW_EVENTS } from '../src/shared/timeouts';

export { acquireLeasesUpdate, leasesGrantedSignal, leasesQuery, releaseLeasesSignal } from '../src/contracts/messages';
export type { LeaseAnswer, LeaseRelease, LeaseRequest } from '../src/contracts/messages';

interface LeaseShardState {
  /** agentId → holder. */
  held: Record<string, string>;
  /** agentId → holders waiting, first come first served. */
  queued: Record<string, string[]>;
}

// Worker Versioning: a shard lives as long as the injector does, so it must not stay pinned to the version that
// started it (that version could never be drained). On a versioned worker it auto-upgrades to the current version;
// its code stays replay-safe across versions with patched(), like any unversioned workflow. On an unversioned worker
// (the dev server, or the variables unset) it declares nothing: such a worker still reports a version, with an empty
// deployment name, and the server refuses a behaviour from it ("versioning behavior cannot be specified without
// deployment options being set with versioned mode").
setWorkflowOptions(() => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'AUTO_UPGRADE' } : {}), agentLeaseShardWorkflow);

/**
 * One shard of the lease table. A lease never outlives its holder: injections release in their own `finally`, and a
 * holder that closed without releasing (terminated, timed out) is found by a periodic check and its leases freed.
 */
export async function agentLeaseShardWorkflow(carried?: LeaseShardState): Promise<void> {
  const state: LeaseShardState = carried ?? { held: {}, queued: {} };
  const { closedHolders } = proxyActivities<LeaseActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3 } });
  let changed = 0;

  const grantTo = new Map<string, string[]>();
  const promote = (agentId: string) => {
    const waiting = state.queued[agentId];
    if (!waiting || waiting.length === 0) {
      delete state.queued[agentId];
      return;
    }
    const next = waiting.shift()!;
    if (waiting.length === 0) delete state.queued[agentId];
    state.held[agentId] = next;
    grantTo.set(next, [...(grantTo.get(next) ?? []), agentId]);
  };
  const release = ({ holder, agentIds }: LeaseRelease) => {
    const ids = agentIds ?? Object.keys(state.held).filter((id) => state.held[id] === holder);
    for (const agentId of ids) {
      if (state.held[agentId] === holder) {
        delete state.held[agentId];
        promote(agentId);
      }
    }
    if (agentIds === undefined) {
      for (const [agentId, waiting] of Object.entries(state.queued)) {
        const left = waiting.filter((h) => h !== holder);
        if (left.length === 0) delete state.queued[agentId];
        else state.queued[agentId] = left;
      }
    }
    changed++;
  };

  setHandler(acquireLeasesUpdate, ({ holder, agentIds, mode }) => {
    const granted: string[] = [];
    const busy: { agentId: string; holder: string }[] = [];
    for (const agentId of agentIds) {
      const current = state.held[agentId];
      if (current === undefined || current === holder) granted.push(agentId);
      else busy.push({ agentId, holder: current });
    }
    if (mode === 'refuse' && busy.length > 0) return { granted: [], busy };
    for (const agentId of granted) state.held[agentId] = holder;
    for (const { agentId } of busy) {
      const waiting = (state.queued[agentId] ??= []);
      if (!waiting.includes(holder)) waiting.push(holder);
    }
    changed++;
    return { granted, busy };
  });
  setHandler(releaseLeasesSignal, release);
  setHandler(leasesQuery, () => ({ held: state.held, queued: state.queued }));

  for (;;) {
    const seen = changed;
    const busy = Object.keys(state.held).length > 0 || Object.keys(state.queued).length > 0;
    await Promise.race([condition(() => changed !== seen || grantTo.size > 0), busy ? sleep(LEASE_HOLDER_CHECK_INTERVAL_MS) : new Promise<void>(() => undefined)]);
    if (grantTo.size > 0) {
      const grants = [...grantTo.entries()];
      grantTo.clear();
      await Promise.all(grants.map(([holder, agentIds]) => getExternalWorkflowHandle(holder).signal(leasesGrantedSignal, { agentIds }).catch(() => release({ holder }))));
      continue;
    }
    if (changed === seen && busy) {
      // A holder that closed without releasing (terminated, timed out, or gone) holds nothing any more.
      const holders = [...new Set([...Object.values(state.held), ...Object.values(state.queued).flat()])];
      for (const holder of await closedHolders(holders)) release({ holder });
    }
    if (workflowInfo().historyLength > LEASE_SHARD_CONTINUE_AS_NEW_EVENTS && grantTo.size === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof agentLeaseShardWorkflow>(state);
    }
  }
}
