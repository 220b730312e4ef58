// Ids and names that cross every boundary (gateway, workflows, agents): their patterns and bounds. Imports nothing of the app.

/** Injection ids: the workflow id of a swarm injection; also the reload id its agents see. */
export const INJECTION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Agent ids and group names: never path-like (no slash), so they are safe in file names and workflow ids. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const GROUP_PATTERN = AGENT_ID_PATTERN;
