// Tracing is configured by OTEL_EXPORTER_OTLP_ENDPOINT (and OTEL_SERVICE_NAME), validated at start-up; unset, none is built.
import { ConfigError, loadConfig } from '../../src/config';
import { tracingFromConfig } from '../../src/telemetry/tracing';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('tracing settings', () => {
  it('is off by default: no endpoint, no tracing object, so no interceptor, middleware or bundle change', () => {
    const config = loadConfig({});
    expect(config.otlpEndpoint).toBeUndefined();
    expect(tracingFromConfig(config, 'openclaw')).toBeUndefined();
  });

  it('takes an http(s) collector URL and a service name, and refuses anything else', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SERVICE_NAME: 'openclaw-worker-rack3' })).toMatchObject({
      otlpEndpoint: 'http://127.0.0.1:4318',
      otelServiceName: 'openclaw-worker-rack3',
    });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.internal/otlp' }).otlpEndpoint).toBe('https://collector.internal/otlp');
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' })[0]).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT="collector:4317": expected an http\(s\) URL/);
    expect(problemsOf({ OTEL_SERVICE_NAME: 'has space' })[0]).toMatch(/^OTEL_SERVICE_NAME="has space": expected a service name/);
  });

  it('with an endpoint, builds the client and activity interceptors and the workflow span sink', async () => {
    const tracing = tracingFromConfig(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), 'openclaw');
    expect(tracing).toBeDefined();
    expect(tracing!.clientInterceptors).toHaveLength(1);
    expect(tracing!.activityInterceptors).toHaveLength(1);
    expect(Object.keys(tracing!.workflowSinks)).toEqual(['exporter']);
    await tracing!.shutdown();
  });
});
