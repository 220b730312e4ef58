// Programs by reference: one workflow per injection holds its compiled program (one copy, as a binary payload) and
// hands it out by query, so no child input, activity input or workflow task carries the program bytes.
import { condition, setHandler } from '@temporalio/workflow';
import { programQuery, releaseProgramSignal } from '../src/contracts/messages';

export { programQuery, releaseProgramSignal } from '../src/contracts/messages';

export interface HeldProgramMeta {
  injectionId: string;
  programId: string;
  sha256: string;
  bytes: number;
  /** The holder ends by itself this long after it starts, whether or not the injection released it. */
  keepMs: number;
}


export function programHolderWorkflowId(injectionId: string): string {
  return `${injectionId}/program`;
}

/** Answers `program` until the injection releases it (or `keepMs` passes); a closed holder still answers by replay. */
export async function programHolderWorkflow(meta: HeldProgramMeta, program: Uint8Array): Promise<HeldProgramMeta> {
  let released = false;
  setHandler(programQuery, () => program);
  setHandler(releaseProgramSignal, () => {
    released = true;
  });
  await condition(() => released, meta.keepMs);
  return meta;
}
