// Custom search attributes the injector sets on its workflows; registered by the dev server launcher and the compose job.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const INJECTION_ID = defineSearchAttributeKey('InjectionId', SearchAttributeType.KEYWORD);
export const AGENT_ID = defineSearchAttributeKey('AgentId', SearchAttributeType.KEYWORD);
export const INJECTION_STATUS = defineSearchAttributeKey('InjectionStatus', SearchAttributeType.KEYWORD);

/** name=Type pairs as `temporal server start-dev --search-attribute` and `temporal operator search-attribute create` take them. */
export const CUSTOM_SEARCH_ATTRIBUTES: ReadonlyArray<{ name: string; type: 'Keyword' }> = [
  { name: INJECTION_ID.name, type: 'Keyword' },
  { name: AGENT_ID.name, type: 'Keyword' },
  { name: INJECTION_STATUS.name, type: 'Keyword' },
];
