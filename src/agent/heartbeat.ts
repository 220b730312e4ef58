// Heartbeat constants shared by the runtime (which touches the file) and the HEALTHCHECK (which reads its age).
export const HEARTBEAT_FILE = '/tmp/openclaw-agent.heartbeat';
export const HEARTBEAT_INTERVAL_MS = 5_000;
export const HEARTBEAT_STALE_MS = HEARTBEAT_INTERVAL_MS * 3;
