// The directives the agents implement and the runtime variables they expose: typed tables the checker reads.
import { ValueTag } from '../bytecode/instructions';

/** The kinds of scalar value a directive amount, parameter or rollout key can take. */
export type ScalarKind = 'number' | 'percent' | 'money' | 'duration' | 'string' | 'identifier' | 'boolean';

export const KIND_TAG: Readonly<Record<ScalarKind, ValueTag>> = {
  number: ValueTag.Number,
  percent: ValueTag.Percent,
  money: ValueTag.Money,
  duration: ValueTag.Duration,
  string: ValueTag.String,
  identifier: ValueTag.Identifier,
  boolean: ValueTag.Boolean,
};

export interface ValueSpec {
  /** Accepted kinds; a value of any one of them type-checks. */
  kinds: readonly ScalarKind[];
  /** A comma-separated list of those kinds (a single value is read as a list of one). */
  list?: boolean;
  required?: boolean;
  /** One line for docs and error messages. */
  description: string;
}

export interface DirectiveSpec {
  description: string;
  /** The BY amount, or null when the directive takes none. */
  amount: ValueSpec | null;
  /** Parameters passed to the agent (rollout keys are accepted everywhere and never passed). */
  params: Readonly<Record<string, ValueSpec>>;
}

export type DirectiveCatalogue = Readonly<Record<string, DirectiveSpec>>;

const METRICS: ValueSpec = { kinds: ['identifier'], list: true, description: 'metrics the agent should watch, e.g. latency, memory, cpu' };
const DRY_RUN: ValueSpec = { kinds: ['boolean'], description: 'plan and trace the change without applying it' };

/** What the reference agent implements (src/agent). */
export const DEFAULT_DIRECTIVES: DirectiveCatalogue = {
  REDUCE_COSTS: {
    description: 'cut the agent’s spend by a share, within a budget',
    amount: { kinds: ['percent'], description: 'the share to cut, e.g. 15%' },
    params: {
      BUDGET: { kinds: ['money'], description: 'the most the agent may spend, e.g. $500' },
      METRICS,
      DRY_RUN,
    },
  },
  OPTIMIZE_THROUGHPUT: {
    description: 'raise the agent’s throughput, optionally by a target share',
    amount: { kinds: ['percent'], description: 'the target gain, e.g. 20%' },
    params: { METRICS, DRY_RUN },
  },
  SIMULATE_WORK: {
    description: 'sleep for the amount (tests use it for slow agents)',
    amount: { kinds: ['duration'], required: true, description: 'how long to work, e.g. 30s' },
    params: {},
  },
  SIMULATE_FAILURE: {
    description: 'fail with the message (tests use it for failing agents)',
    amount: null,
    params: { MESSAGE: { kinds: ['string'], description: 'the error the handler throws' } },
  },
};

/** The agent's runtime variables, read with LoadVar and written `agent.<name>` in the DSL. */
export const RUNTIME_VARIABLES: Readonly<Record<string, ScalarKind>> = {
  agent_id: 'string',
  group: 'string',
  cpu: 'percent',
  memory_mb: 'number',
  uptime: 'duration',
};
