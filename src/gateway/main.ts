// Entry point of a gateway process: the only place that listens on the HTTP port.
import { loadConfigOrExit } from '../config';
import { createLogger } from '../shared/logger';
import { startGateway } from '../runtime';
import { tracingFromConfig } from '../telemetry/tracing';

async function run(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, component: 'gateway' });
  if (!config.temporalAddress) throw new Error('TEMPORAL_ADDRESS is required for a standalone gateway (npm start embeds a dev server instead)');
  const tracing = tracingFromConfig(config, 'openclaw-gateway');
  if (tracing) logger.info('traces exported over OTLP', { endpoint: config.otlpEndpoint });
  const gateway = await startGateway({ config, temporalAddress: config.temporalAddress, logger, ...(tracing ? { tracing } : {}) });
  logger.info('gateway listening', { url: gateway.url });
  // Dev mode only: the generated token, shown once on the terminal (never in the log); the CLI reads its file.
  if (gateway.devToken) console.log(`dev token: ${gateway.devToken.token}   (also in ${gateway.devToken.file}, mode 0600)`);
  const stop = async () => {
    await gateway.stop();
    await tracing?.shutdown();
    logger.info('gateway stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

run().catch((err) => {
  console.error(`openclaw-gateway: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
