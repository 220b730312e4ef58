// `npm start`: the embedded default — a Temporal dev server (unless TEMPORAL_ADDRESS is set), the workers and the gateway in one process.
import path from 'node:path';
import { loadConfigOrExit } from './config';
import { createLogger } from './shared/logger';
import { startDevServer, findTemporalCli, DevServer } from './temporal/dev-server';
import { startInjector } from './runtime';
import { tracingFromConfig } from './telemetry/tracing';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

async function run(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, component: 'start' });

  let devServer: DevServer | undefined;
  let temporalAddress = config.temporalAddress;
  if (!temporalAddress) {
    devServer = await startDevServer({
      cliPath: findTemporalCli(config.temporalCliPath, PROJECT_ROOT),
      port: config.devServerPort,
      uiPort: config.devServerUiPort,
      namespace: config.temporalNamespace,
      dbFilename: path.join(config.dataDir, 'temporal.db'),
      logFile: path.join(config.dataDir, 'temporal.log'),
      ownProcessGroup: true,
    });
    temporalAddress = devServer.address;
    if (devServer.replacedOrphanPid !== null) {
      logger.warn('stopped the dev server an earlier npm start left running when it was killed; its data is kept', { pid: devServer.replacedOrphanPid });
    }
  }

  const tracing = tracingFromConfig(config, 'openclaw');
  if (tracing) logger.info('traces exported over OTLP', { endpoint: config.otlpEndpoint });
  const injector = await startInjector({ config, temporalAddress, logger, ...(tracing ? { tracing } : {}) });

  console.log('');
  console.log(`OpenClaw Injector is up.`);
  console.log(`  gateway:      ${injector.gatewayUrl}   (try: curl ${injector.gatewayUrl}/readyz)`);
  console.log(`  Temporal:     ${temporalAddress}${devServer ? `   (embedded dev server, data in ${config.dataDir})` : ''}`);
  if (devServer?.uiUrl) console.log(`  Temporal UI:  ${devServer.uiUrl}`);
  console.log(`  task queues:  ${injector.taskQueues.join(', ')}`);
  if (injector.devToken) {
    // Printed once, here; the CLI on this machine reads it from the file (mode 0600), so it need not be copied.
    console.log('');
    console.log(`  dev token:    ${injector.devToken.token}`);
    console.log(`                (also in ${injector.devToken.file}, mode 0600; the openclaw CLI finds it there)`);
    console.log('  dev mode: loopback only, Host checked, a new token each start; set OPENCLAW_API_TOKENS for anything else.');
  }
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal: exiting without draining', { signal });
      process.exit(130);
    }
    stopping = true;
    logger.info('shutting down: draining workers, closing the gateway', { signal });
    await injector.stop();
    await tracing?.shutdown();
    await devServer?.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', (s) => void stop(s));
  process.on('SIGTERM', (s) => void stop(s));

  injector.workersDone.catch(async (err) => {
    logger.error('a worker failed; stopping', { err });
    await injector.stop();
    await devServer?.stop();
    process.exit(1);
  });
}

run().catch((err) => {
  console.error(`openclaw: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
