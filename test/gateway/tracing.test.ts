// OpenTelemetry across the hops of one injection: the gateway over real HTTP, real workers with the traced workflow
// bundle, the run's dev server and real agent containers; every span lands in an in-memory exporter and is read back.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { RunningGateway, RunningWorkers, startGateway, startWorkers } from '../../src/runtime';
import { childWorkflowId } from '../../src/shared/injection-types';
import { createLogger } from '../../src/shared/logger';
import { formatSigningKey } from '../../src/signing/keys';
import { createTracing, Tracing } from '../../src/telemetry/tracing';
import { bundleInjectorWorkflows } from '../../src/worker/worker';
import { startAgents, TestAgents } from '../support/agents';
import { testClient, testConfig, testRunDir, testTemporalAddress, testWorkflowBundle } from '../support/temporal';
import { eventually, TOKEN } from './support';

const logger = createLogger({ level: 'error', component: 'tracing-test' });
const gatewayLines: Array<Record<string, unknown>> = [];
const gatewayLogger = createLogger({ level: 'info', component: 'tracing-test', write: (line) => void gatewayLines.push(JSON.parse(line) as Record<string, unknown>) });
const HISTORIES_DIR = path.resolve(__dirname, '..', 'histories');
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let tracedBundlePath: string;
let agents: TestAgents;
let workers: RunningWorkers;
let gateway: RunningGateway;

beforeAll(async () => {
  tracing = createTracing({ serviceName: 'openclaw-test', processor: new SimpleSpanProcessor(exporter) });
  tracedBundlePath = path.join(testRunDir(), 'workflow-bundle-traced.js');
  const [bundle, started] = await Promise.all([bundleInjectorWorkflows(path.resolve(__dirname, '..', '..', 'workflows', 'index.ts'), undefined, { tracing: true }), startAgents(2, { name: 'tracing' })]);
  writeFileSync(tracedBundlePath, bundle.code);
  agents = started;
  const config = testConfig({ OPENCLAW_SIGNING_KEY: formatSigningKey(agents.signingKey), OPENCLAW_API_TOKENS: TOKEN, OPENCLAW_INSECURE_DEV: '0' });
  workers = await startWorkers({ config, temporalAddress: testTemporalAddress(), logger, workflows: { bundlePath: tracedBundlePath }, tracing });
  gateway = await startGateway({ config, temporalAddress: testTemporalAddress(), logger: gatewayLogger, port: 0, tracing });
}, 240_000);

afterAll(async () => {
  await gateway?.stop();
  await workers?.stop();
  await tracing?.shutdown();
  await agents?.remove();
});

async function http(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(gateway.url + urlPath, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const names = (spans: ReadableSpan[]) => [...new Set(spans.map((s) => s.name))].sort();
const workflowIdOf = (span: ReadableSpan) => span.attributes.temporalWorkflowId;

describe('traces', () => {
  let injectionId: string;

  it('one trace holds the gateway request, the swarm workflow, a child workflow and that child’s activities', async () => {
    const start = await http('POST', '/inject-swarm', { group: agents.group, instruction: 'REDUCE_COSTS BY 15% {\n  MAX_PARALLEL: 2\n}' });
    expect(start.status).toBe(202);
    injectionId = start.body.injectionId as string;
    const view = await eventually(
      async () => {
        const { body } = await http('GET', `/injections/${injectionId}`);
        return body.done === true ? body : undefined;
      },
      'the injection to end',
      120_000,
    );
    expect(view.status).toBe('succeeded');

    const request = exporter.getFinishedSpans().find((s) => s.name === 'POST /inject-swarm');
    expect(request).toBeDefined();
    const traceId = request!.spanContext().traceId;
    const child = childWorkflowId(injectionId, agents.agents[0].agentId);
    // Workflow spans leave the sandbox when they end: the swarm's run span last, when its result is written.
    const trace = await eventually(
      async () => {
        const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
        const done = spans.some((s) => s.name === 'RunWorkflow:swarmInjectionWorkflow') && spans.some((s) => s.name === 'RunWorkflow:agentInjectionWorkflow');
        return done ? spans : undefined;
      },
      'the workflow spans to be exported',
      30_000,
    );

    expect(request!.parentSpanId).toBeUndefined();
    // The request's access line names its trace.
    expect(gatewayLines).toContainEqual(expect.objectContaining({ msg: 'request', method: 'POST', path: '/inject-swarm', status: 202, traceId }));
    expect(request!.attributes).toMatchObject({ 'http.route': '/inject-swarm', 'http.response.status_code': 202 });
    expect(names(trace)).toEqual(
      expect.arrayContaining([
        'POST /inject-swarm',
        'StartWorkflow:swarmInjectionWorkflow',
        'RunWorkflow:swarmInjectionWorkflow',
        'StartActivity:compileProgram',
        'RunActivity:compileProgram',
        'StartChildWorkflow:agentInjectionWorkflow',
        'RunWorkflow:agentInjectionWorkflow',
        'RunActivity:injectAndConfirm',
      ]),
    );
    // Parents chain back to the request: the workflow start is the request's child, the swarm's run the start's.
    const byId = new Map(trace.map((s) => [s.spanContext().spanId, s]));
    const ancestry = (span: ReadableSpan): string[] => {
      const chain: string[] = [];
      for (let at: ReadableSpan | undefined = span; at; at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined) chain.push(at.name);
      return chain;
    };
    const childActivities = trace.filter((s) => s.name.startsWith('RunActivity:') && workflowIdOf(s) === child);
    expect(names(childActivities)).toEqual(expect.arrayContaining(['RunActivity:snapshotAgent', 'RunActivity:injectAndConfirm']));
    for (const activity of childActivities) {
      expect(ancestry(activity)).toEqual(
        expect.arrayContaining(['RunWorkflow:agentInjectionWorkflow', 'StartChildWorkflow:agentInjectionWorkflow', 'RunWorkflow:swarmInjectionWorkflow', 'StartWorkflow:swarmInjectionWorkflow', 'POST /inject-swarm']),
      );
      expect(ancestry(activity).at(-1)).toBe('POST /inject-swarm');
    }
    // Each agent's child is its own run span in the same trace.
    expect(trace.filter((s) => s.name === 'RunWorkflow:agentInjectionWorkflow').length).toBeGreaterThanOrEqual(agents.agents.length);
  });

  it('the traced run replays on the plain bundle and the saved histories on the traced one: tracing changes no command', async () => {
    const { client, close } = await testClient();
    try {
      const runs = [injectionId, childWorkflowId(injectionId, agents.agents[0].agentId)];
      for (const workflowId of runs) {
        const history = await client.workflow.getHandle(workflowId).fetchHistory();
        await Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflowBundle().bundlePath } }, history, workflowId);
      }
    } finally {
      await close();
    }
    const saved = readdirSync(HISTORIES_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(path.join(HISTORIES_DIR, d.name)).filter((f) => f.endsWith('.json')).map((f) => path.join(HISTORIES_DIR, d.name, f)));
    expect(saved.length).toBeGreaterThan(0);
    for (const file of saved) {
      const workflowId = path.basename(file).replace(/^history-/, '').replace(/\.json$/, '').replace(/~/g, '/');
      await Worker.runReplayHistory({ workflowBundle: { codePath: tracedBundlePath }, sinks: tracing.workflowSinks }, historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))), workflowId);
    }
  });

  it("a caller's W3C traceparent makes the request span its child, in the caller's trace", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentSpanId = '00f067aa0ba902b7';
    const response = await fetch(`${gateway.url}/livez`, { headers: { traceparent: `00-${traceId}-${parentSpanId}-01` } });
    expect(response.status).toBe(200);
    const span = await eventually(async () => exporter.getFinishedSpans().find((s) => s.name === 'GET /livez' && s.spanContext().traceId === traceId), 'the probe span');
    expect(span.parentSpanId).toBe(parentSpanId);
  });

  it('off costs nothing: the default bundle holds no tracing code', () => {
    const plain = readFileSync(testWorkflowBundle().bundlePath, 'utf8');
    expect(plain).not.toContain('OpenTelemetryInboundInterceptor');
    expect(readFileSync(tracedBundlePath, 'utf8')).toContain('OpenTelemetryInboundInterceptor');
  });
});
