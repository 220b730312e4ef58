// Entry point of a worker process (one per Docker host in production): polls the main queue and this host's queue.
import { loadConfigOrExit } from '../config';
import { createLogger } from '../shared/logger';
import { startWorkers } from '../runtime';
import { tracingFromConfig } from '../telemetry/tracing';

async function run(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, component: 'worker' });
  if (!config.temporalAddress) throw new Error('TEMPORAL_ADDRESS is required for a standalone worker (npm start embeds a dev server instead)');
  const tracing = tracingFromConfig(config, 'openclaw-worker');
  if (tracing) logger.info('traces exported over OTLP', { endpoint: config.otlpEndpoint });
  const workers = await startWorkers({ config, temporalAddress: config.temporalAddress, logger, ...(tracing ? { tracing } : {}) });
  logger.info('worker polling', { taskQueues: workers.taskQueues, ...(config.workerDeployment ? { deployment: config.workerDeployment } : {}) });
  const stop = () => void workers.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await workers.done;
  await tracing?.shutdown();
  logger.info('worker drained and stopped');
}

run().catch((err) => {
  console.error(`openclaw-worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
