// Entry point of the reference agent container: config from env, reference handlers, the reload loop; stops on SIGTERM.
import os from 'node:os';
import { AgentConfigError, loadAgentConfig } from './agent-config';
import { createAgentRuntime } from './agent-runtime';
import { HandlerRegistry } from './handler-registry';
import { registerReferenceHandlers } from './reference-handlers';

function run(): void {
  const config = loadAgentConfig(process.env, os.hostname());
  const registry = registerReferenceHandlers(new HandlerRegistry());
  const agent = createAgentRuntime({
    programsDir: config.programsDir,
    logsDir: config.logsDir,
    stateDir: config.stateDir,
    heartbeatFile: config.heartbeatFile,
    trustedKeys: config.trustedKeys,
    registry,
    limits: { maxSteps: config.maxSteps, timeLimitMs: config.timeLimitMs },
    identity: { agentId: config.agentId, group: config.group },
  });
  agent.start();
  console.error(`openclaw-agent: ${config.agentId} ready (directives: ${registry.names().join(', ')}; trusted keys: ${[...config.trustedKeys.keys()].join(', ')})`);
  const shutdown = () => {
    agent.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

try {
  run();
} catch (err) {
  console.error(`openclaw-agent: ${err instanceof AgentConfigError ? err.message : String(err)}`);
  process.exit(2);
}
