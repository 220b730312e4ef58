// Gateway load benchmark, loopback only, bounded in time and requests: req/s of GET /health and POST /compile, p50/p99 start
// latency of POST /inject-swarm, each beside an Express hello-world measured in the same run with the same client loop.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import express, { Express } from 'express';
import { createDockerAdapter } from '../src/docker';
import { createApp } from '../src/gateway/app';
import { createInjectionService } from '../src/gateway/injection-service';
import { createGatewayMetrics } from '../src/gateway/metrics';
import { createLogger } from '../src/shared/logger';
import { findTemporalCli, freePort, startDevServer } from '../src/temporal/dev-server';
import { TYPICAL_PROGRAM } from './compile.bench';

/** Compiled to dist/bench/, like every bench (npm run bench). */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const LOOPBACK = '127.0.0.1';
/** Each throughput case runs this long, or until BENCH_MAX_REQUESTS, whichever comes first. */
export const BENCH_DURATION_MS = 3_000;
export const BENCH_MAX_REQUESTS = 30_000;
export const BENCH_CONCURRENCY = 16;
/** Start-latency samples: sequential POST /inject-swarm calls (each starts a workflow; no worker runs them). */
export const START_LATENCY_SAMPLES = 300;
const TOKEN = 'b'.repeat(40);

interface Server {
  url: string;
  close(): Promise<void>;
}

function listen(app: Express): Promise<Server> {
  const server = http.createServer(app);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://${LOOPBACK}:${port}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

interface Request {
  method: 'GET' | 'POST';
  url: string;
  body?: string;
}

async function send(request: Request): Promise<number> {
  const response = await fetch(request.url, {
    method: request.method,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(request.body ? { 'Content-Type': 'application/json' } : {}) },
    body: request.body,
  });
  await response.arrayBuffer();
  return response.status;
}

/** Requests/s with BENCH_CONCURRENCY loops, bounded by BENCH_DURATION_MS and BENCH_MAX_REQUESTS; fails on an unexpected status. */
async function throughput(request: Request, expectedStatus?: number): Promise<{ rps: number; requests: number }> {
  let requests = 0;
  const started = performance.now();
  const stopAt = started + BENCH_DURATION_MS;
  const loop = async () => {
    while (performance.now() < stopAt && requests < BENCH_MAX_REQUESTS) {
      requests++;
      const status = await send(request);
      if (expectedStatus === undefined ? status >= 300 : status !== expectedStatus) throw new Error(`${request.method} ${request.url} answered ${status}`);
    }
  };
  await Promise.all(Array.from({ length: BENCH_CONCURRENCY }, loop));
  return { rps: (requests * 1000) / (performance.now() - started), requests };
}

async function latencies(samples: number, next: () => Request): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const request = next();
    const t0 = performance.now();
    const status = await send(request);
    times.push(performance.now() - t0);
    if (status >= 300) throw new Error(`${request.method} ${request.url} answered ${status}`);
  }
  return times.sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export async function run(): Promise<void> {
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-gateway-bench-'));
  const devServer = await startDevServer({
    cliPath: findTemporalCli(process.env.TEMPORAL_CLI_PATH, PROJECT_ROOT),
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
    logFile: path.join(runDir, 'temporal.log'),
    headless: true,
  });
  const connection = await Connection.connect({ address: devServer.address });
  const servers: Server[] = [];
  let closeInjections = async (): Promise<void> => undefined;
  try {
    const client = new Client({ connection });
    const logger = createLogger({ level: 'error', component: 'gateway-bench' });
    const metrics = createGatewayMetrics();
    const taskQueue = `bench-${randomBytes(4).toString('hex')}`;
    const docker = createDockerAdapter({ dockerHost: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock' });
    const injections = createInjectionService({ client, taskQueue, dockerHosts: ['local'], metrics, logger });
    closeInjections = () => injections.close();
    const gatewayApp = createApp({
      health: { client, namespace: 'default', taskQueue, dockerHostName: 'local', dockerPing: () => docker.ping() },
      apiTokens: [TOKEN],
      logger,
      injections,
      docker,
      metrics,
      // The bench measures the gateway's work, not its rate limit.
      rateLimit: { burstRequests: 1e9, refillPerSecond: 1e9 },
    });
    const hello = express();
    hello.disable('x-powered-by');
    hello.get('/', (_req, res) => {
      res.json({ hello: 'world' });
    });
    hello.post('/', express.json(), (_req, res) => {
      res.json({ hello: 'world' });
    });
    const [gateway, baseline] = await Promise.all([listen(gatewayApp), listen(hello)]);
    servers.push(gateway, baseline);

    const compileBody = JSON.stringify({ instruction: TYPICAL_PROGRAM.replace('TARGET: optimization_agents\n', ''), context: { deadline: '2h' } });
    const swarmBody = JSON.stringify({ agents: ['bench-a', 'bench-b', 'bench-c'], instruction: 'REDUCE_COSTS BY 15% {\n  BUDGET: $500\n}' });
    // /health answers 503 without workers (its worker probe fails): measure it as the operator's probe sees it.
    const healthStatus = await send({ method: 'GET', url: `${gateway.url}/health` });

    const rows: Array<[string, string, string]> = [];
    const helloGet = await throughput({ method: 'GET', url: `${baseline.url}/` });
    rows.push(['Express hello-world GET /', `${helloGet.rps.toFixed(0)} req/s`, `${helloGet.requests} requests`]);
    const helloPost = await throughput({ method: 'POST', url: `${baseline.url}/`, body: compileBody });
    rows.push(['Express hello-world POST / (same body as /compile)', `${helloPost.rps.toFixed(0)} req/s`, `${helloPost.requests} requests`]);
    const health = await throughput({ method: 'GET', url: `${gateway.url}/health` }, healthStatus);
    rows.push([`GET /health (answers ${healthStatus}; probes Temporal, Docker, task queues)`, `${health.rps.toFixed(0)} req/s`, `${(health.rps / helloGet.rps).toFixed(3)} × hello GET`]);
    const compile = await throughput({ method: 'POST', url: `${gateway.url}/compile`, body: compileBody });
    rows.push(['POST /compile (typical program)', `${compile.rps.toFixed(0)} req/s`, `${(compile.rps / helloPost.rps).toFixed(3)} × hello POST`]);

    const helloLatency = await latencies(START_LATENCY_SAMPLES, () => ({ method: 'POST', url: `${baseline.url}/`, body: swarmBody }));
    const startLatency = await latencies(START_LATENCY_SAMPLES, () => ({ method: 'POST', url: `${gateway.url}/inject-swarm`, body: swarmBody }));
    rows.push(['Express hello-world POST / latency', `p50 ${percentile(helloLatency, 50).toFixed(2)} ms`, `p99 ${percentile(helloLatency, 99).toFixed(2)} ms`]);
    rows.push(['POST /inject-swarm start latency (compile + workflow start)', `p50 ${percentile(startLatency, 50).toFixed(2)} ms`, `p99 ${percentile(startLatency, 99).toFixed(2)} ms`]);

    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(`gateway bench: loopback ${LOOPBACK}, ${BENCH_CONCURRENCY} concurrent loops, ${BENCH_DURATION_MS} ms or ${BENCH_MAX_REQUESTS} requests per case, ${START_LATENCY_SAMPLES} sequential start samples`);
    for (const [what, figure, note] of rows) console.log(`  ${what.padEnd(width)}  ${figure.padStart(16)}  ${note}`);
    console.log(
      JSON.stringify({
        bench: 'gateway',
        helloGetRps: Math.round(helloGet.rps),
        helloPostRps: Math.round(helloPost.rps),
        healthRps: Math.round(health.rps),
        compileRps: Math.round(compile.rps),
        startP50Ms: Number(percentile(startLatency, 50).toFixed(2)),
        startP99Ms: Number(percentile(startLatency, 99).toFixed(2)),
        helloP50Ms: Number(percentile(helloLatency, 50).toFixed(2)),
        helloP99Ms: Number(percentile(helloLatency, 99).toFixed(2)),
      }),
    );
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    await closeInjections();
    await connection.close();
    await devServer.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
