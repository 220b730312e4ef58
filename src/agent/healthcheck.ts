// The opt-in exec HEALTHCHECK (swarm:up --healthcheck): healthy while the agent's heartbeat file is fresh (exit 0), unhealthy otherwise (exit 1).
import { statSync } from 'node:fs';
import { HEARTBEAT_FILE, HEARTBEAT_STALE_MS } from './heartbeat';

try {
  const ageMs = Date.now() - statSync(HEARTBEAT_FILE).mtimeMs;
  process.exit(ageMs <= HEARTBEAT_STALE_MS ? 0 : 1);
} catch {
  process.exit(1);
}
