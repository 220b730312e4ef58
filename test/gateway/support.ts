// A gateway app for route tests: the real app and the run's dev server; no workers unless a test starts them.
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import type { Config } from '../../src/config';
import { createApp, GatewayDeps } from '../../src/gateway/app';
import { createHealthProbes } from '../../src/gateway/health';
import { createInjectionService, InjectionService, InjectionServiceDeps } from '../../src/gateway/injection-service';
import { createGatewayMetrics, GatewayMetrics } from '../../src/gateway/metrics';
import { createProgramChecker } from '../../src/gateway/program-check';
import { createTargetResolver } from '../../src/gateway/target-resolver';
import { createLogger } from '../../src/shared/logger';
import { testClient, testConfig } from '../support/temporal';

export const TOKEN = 't'.repeat(40);
export const OTHER_TOKEN = 'o'.repeat(40);
export const auth = { Authorization: `Bearer ${TOKEN}` };
/** Rate limits no test reaches unless it means to. */
export const UNLIMITED = { burstRequests: 10_000, refillPerSecond: 10_000 };

export interface TestGateway {
  app: Express;
  config: Config;
  client: Client;
  injections: InjectionService;
  metrics: GatewayMetrics;
  close(): Promise<void>;
}

export async function testGateway(
  options: { overrides?: Partial<GatewayDeps>; callTimeoutMs?: number; apiTokens?: string; service?: Partial<InjectionServiceDeps> } = {},
): Promise<TestGateway> {
  const config = testConfig({ OPENCLAW_API_TOKENS: options.apiTokens ?? `${TOKEN},${OTHER_TOKEN}` });
  const { client, close } = await testClient();
  const logger = createLogger({ level: 'error', component: 'gateway-test' });
  const metrics = createGatewayMetrics();
  const injections = createInjectionService({ client, taskQueue: config.taskQueue, dockerHosts: [config.dockerHostName], metrics, logger, callTimeoutMs: options.callTimeoutMs, ...options.service });
  const app = createApp({
    health: createHealthProbes({ client, namespace: config.temporalNamespace, taskQueue: config.taskQueue, dockerHosts: [config.dockerHostName], logger }),
    apiTokens: config.apiTokens,
    logger,
    injections,
    programs: createProgramChecker(),
    targets: createTargetResolver({ client, taskQueue: config.taskQueue, dockerHosts: [config.dockerHostName], waitMs: options.callTimeoutMs }),
    metrics,
    rateLimits: { mutating: UNLIMITED, compile: UNLIMITED, read: UNLIMITED },
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
