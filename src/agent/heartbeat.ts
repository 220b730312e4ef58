// Heartbeat constants shared by the runtime (which touches the file), `swarm:status` and the opt-in exec HEALTHCHECK (which read its age).
export const HEARTBEAT_FILE = '/tmp/openclaw-agent.heartbeat';
export const HEARTBEAT_INTERVAL_MS = 5_000;
export const HEARTBEAT_STALE_MS = HEARTBEAT_INTERVAL_MS * 3;
