// The product as it runs for end-to-end tests: real workers and the REST gateway on the run's dev server, and an
// authenticated JSON client for that gateway.
import type { Config } from '../../src/config';
import { RunningGateway, RunningWorkers, startGateway, startWorkers } from '../../src/runtime';
import type { Logger } from '../../src/shared/logger';
import { testTemporalAddress, testWorkflowBundle } from './temporal';

export interface GatewayReply {
  status: number;
  body: Record<string, unknown>;
}

export type GatewayHttp = (method: string, path: string, body?: unknown) => Promise<GatewayReply>;

/** JSON requests to `url` with `token` as the bearer token. */
export function gatewayHttp(url: string, token: string): GatewayHttp {
  return async (method, path, body) => {
    const response = await fetch(url + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
}

export interface RunningInjector {
  workers: RunningWorkers;
  gateway: RunningGateway;
  http: GatewayHttp;
  /** Stops the gateway, then the workers. */
  stop(): Promise<void>;
}

/** Workers with `config`, and a gateway with `gatewayConfig` (default: the same) on a free port; `token` is one of its API tokens. */
export async function startRunningInjector(options: { config: Config; gatewayConfig?: Config; token: string; logger: Logger }): Promise<RunningInjector> {
  const { config, logger } = options;
  const workers = await startWorkers({ config, temporalAddress: testTemporalAddress(), logger, workflows: testWorkflowBundle() });
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ config: options.gatewayConfig ?? config, temporalAddress: testTemporalAddress(), logger, port: 0 });
  } catch (err) {
    await workers.stop();
    throw err;
  }
  return {
    workers,
    gateway,
    http: gatewayHttp(gateway.url, options.token),
    stop: async () => {
      await gateway.stop();
      await workers.stop();
    },
  };
}
