// What the agent must remember across restarts: the reload ids it has acted on (bounded), the run it was in, and the
// highest envelope sequence it accepted (so an older sealed program is refused even after a restart).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isRecord, isReloadId, MAX_SEEN_RELOAD_IDS } from './protocol';

export const STATE_FILE = 'agent-state.json';

export interface ReloadState {
  has(reloadId: string): boolean;
  /** Remembers the id and, with inFlight, that its run has started; persisted before returning. */
  markSeen(reloadId: string): void;
  setInFlight(run: InFlightRun | null): void;
  inFlight(): InFlightRun | null;
  /** The highest envelope sequence accepted, across restarts; null before the first. */
  lastSequence(): number | null;
  /** Records an accepted sequence (never lowers it); persisted before returning. */
  acceptSequence(sequence: number): void;
  /** Remembers that reload `id` changed what the agent runs (bounded like the seen ids); persisted. */
  markSwitched(reloadId: string): void;
  /** Whether reload `id` ever changed what the agent runs (a v2 restore of one that never did has nothing to undo). */
  hasSwitched(reloadId: string): boolean;
}

export interface InFlightRun {
  reloadId: string;
  programId: string | null;
}

interface StateFile {
  v: 1;
  seen: string[];
  inFlight: InFlightRun | null;
  lastSequence: number | null;
  switched?: string[];
}

export function createFileReloadState(stateDir: string, maxSeen = MAX_SEEN_RELOAD_IDS): ReloadState {
  const file = path.join(stateDir, STATE_FILE);
  const state = load(file);
  const seen = new Set(state.seen.slice(-maxSeen));
  let inFlight = state.inFlight;
  let lastSequence = state.lastSequence;
  const switched = new Set((state.switched ?? []).slice(-maxSeen));

  const persist = () => {
    const body: StateFile = { v: 1, seen: [...seen], inFlight, lastSequence, switched: [...switched] };
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(body));
    renameSync(tmp, file);
  };

  return {
    has: (id) => seen.has(id),
    markSeen(id) {
      seen.delete(id);
      seen.add(id);
      while (seen.size > maxSeen) seen.delete(seen.values().next().value as string);
      persist();
    },
    setInFlight(run) {
      inFlight = run;
      persist();
    },
    inFlight: () => inFlight,
    lastSequence: () => lastSequence,
    markSwitched(id) {
      switched.delete(id);
      switched.add(id);
      while (switched.size > maxSeen) switched.delete(switched.values().next().value as string);
      persist();
    },
    hasSwitched: (id) => switched.has(id),
    acceptSequence(sequence) {
      if (lastSequence !== null && sequence <= lastSequence) return;
      lastSequence = sequence;
      persist();
    },
  };
}

function load(file: string): StateFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { v: 1, seen: [], inFlight: null, lastSequence: null };
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.seen)) return { v: 1, seen: [], inFlight: null, lastSequence: null };
  const seen = parsed.seen.filter((id): id is string => typeof id === 'string' && isReloadId(id));
  const run = parsed.inFlight;
  const inFlight =
    isRecord(run) && typeof run.reloadId === 'string' && isReloadId(run.reloadId)
      ? { reloadId: run.reloadId, programId: typeof run.programId === 'string' ? run.programId : null }
      : null;
  const last = parsed.lastSequence;
  const lastSequence = typeof last === 'number' && Number.isSafeInteger(last) && last >= 0 ? last : null;
  const switched = Array.isArray(parsed.switched) ? parsed.switched.filter((id): id is string => typeof id === 'string' && isReloadId(id)) : [];
  return { v: 1, seen, inFlight, lastSequence, switched };
}
