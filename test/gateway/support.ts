// A gateway app for route tests: the real app, the run's dev server and the real Docker adapter; no workers unless a test starts them.
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import type { Config } from '../../src/config';
import { createDockerAdapter } from '../../src/docker';
import { createApp, GatewayDeps } from '../../src/gateway/app';
import { createInjectionService, InjectionService } from '../../src/gateway/injection-service';
import { createGatewayMetrics, GatewayMetrics } from '../../src/gateway/metrics';
import { createLogger } from '../../src/shared/logger';
import { testClient, testConfig } from '../support/temporal';

export const TOKEN = 't'.repeat(40);
export const OTHER_TOKEN = 'o'.repeat(40);
export const auth = { Authorization: `Bearer ${TOKEN}` };

export interface TestGateway {
  app: Express;
  config: Config;
  client: Client;
  injections: InjectionService;
  metrics: GatewayMetrics;
  close(): Promise<void>;
}

export async function testGateway(options: { overrides?: Partial<GatewayDeps>; callTimeoutMs?: number } = {}): Promise<TestGateway> {
  const config = testConfig({ OPENCLAW_API_TOKENS: `${TOKEN},${OTHER_TOKEN}` });
  const { client, close } = await testClient();
  const logger = createLogger({ level: 'error', component: 'gateway-test' });
  const metrics = createGatewayMetrics();
  const injections = createInjectionService({ client, taskQueue: config.taskQueue, dockerHosts: [config.dockerHostName], metrics, logger, callTimeoutMs: options.callTimeoutMs });
  const docker = createDockerAdapter({ dockerHost: config.dockerHost });
  const app = createApp({
    health: { client, namespace: config.temporalNamespace, taskQueue: config.taskQueue, dockerHostName: config.dockerHostName, dockerPing: () => docker.ping() },
    apiTokens: config.apiTokens,
    logger,
    injections,
    docker,
    metrics,
    rateLimit: { burstRequests: 10_000, refillPerSecond: 10_000 },
    ...options.overrides,
  });
  return {
    app,
    config,
    client,
    injections,
    metrics,
    close: async () => {
      await injections.close();
      await close();
    },
  };
}

/** Polls `probe` until it returns a value, for state that Temporal visibility shows a moment later. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
