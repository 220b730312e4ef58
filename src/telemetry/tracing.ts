// OpenTelemetry traces across the hops of one injection: the gateway's request span, then Temporal's own interceptors
// carry the context through the client, the workflows (spans exported from the sandbox through a sink), the children
// and the activities. Built only when an OTLP endpoint is configured (or a test gives a span processor); without one
// nothing here runs: no interceptor, no middleware, and the workflow bundle holds no tracing code.
import * as otel from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetrySinks,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';

/** Name of the tracer the injector's own spans (the gateway's requests) come from. */
export const INJECTOR_TRACER_NAME = 'openclaw-injector';

/**
 * The workflow interceptors of Temporal's OpenTelemetry package, bundled into the workflow code when tracing is on.
 * The package has no exports map and its root pulls in worker and client code the bundler refuses; this module is the
 * one its own plugin bundles (the SDK's bundler names the package's `lib/worker` and `lib/client` as the parts to keep out).
 */
export const TRACING_WORKFLOW_INTERCEPTOR_MODULE = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export interface Tracing {
  tracer: otel.Tracer;
  /** For every Temporal Client (gateway, and the workers' own client): starts, signals, updates and queries get spans. */
  clientInterceptors: WorkflowClientInterceptor[];
  /** For every Worker: a span per activity attempt, child of the span that scheduled it. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** For every Worker: the sink the workflow sandbox sends its finished spans through. */
  workflowSinks: InjectedSinks<OpenTelemetrySinks>;
  /** Sends what is buffered and stops: call once, when the process stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** `service.name` of the spans: which process made them. */
  serviceName: string;
  /** Where spans go: an OTLP exporter behind a batch processor in production, an in-memory exporter in tests. */
  processor: SpanProcessor;
}

/**
 * Registers a tracer provider for the process (context kept across awaits by AsyncLocalStorage, W3C trace context as
 * the propagator the interceptors inject and extract with) and returns the interceptors and sink to wire. One per process.
 */
export function createTracing(options: TracingOptions): Tracing {
  const resource = new Resource({ 'service.name': options.serviceName });
  const provider = new BasicTracerProvider({ resource });
  provider.addSpanProcessor(options.processor);
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  const tracer = provider.getTracer(INJECTOR_TRACER_NAME);
  return {
    tracer,
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor({ tracer })],
    activityInterceptors: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    workflowSinks: { exporter: makeWorkflowExporter(options.processor, resource) },
    shutdown: () => provider.shutdown(),
  };
}

/** Spans leave in batches of at most this many, at least this often. */
export const OTLP_MAX_EXPORT_BATCH_SIZE = 512;
export const OTLP_SCHEDULED_DELAY_MS = 5_000;

/** Tracing to an OTLP/HTTP collector (`<endpoint>/v1/traces`), or undefined when no endpoint is configured. */
export function tracingFromConfig(config: { otlpEndpoint: string | undefined; otelServiceName: string | undefined }, defaultServiceName: string): Tracing | undefined {
  if (config.otlpEndpoint === undefined) return undefined;
  const exporter = new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` });
  const processor = new BatchSpanProcessor(exporter, { maxExportBatchSize: OTLP_MAX_EXPORT_BATCH_SIZE, scheduledDelayMillis: OTLP_SCHEDULED_DELAY_MS });
  return createTracing({ serviceName: config.otelServiceName ?? defaultServiceName, processor });
}
