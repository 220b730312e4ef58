// Tracing is configured by OTEL_EXPORTER_OTLP_ENDPOINT (and OTEL_SERVICE_NAME), validated at start-up; unset, none is
// built; set, spans reach a collector (here a loopback HTTP server standing in for one) over OTLP/HTTP.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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

  it('with an endpoint, builds the interceptors and the workflow span sink, and posts spans to <endpoint>/v1/traces', async () => {
    const received: Array<{ method: string; url: string; body: string }> = [];
    const collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = collector.address() as AddressInfo;
      const tracing = tracingFromConfig(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/` }), 'openclaw-unit');
      expect(tracing).toBeDefined();
      expect(tracing!.clientInterceptors).toHaveLength(1);
      expect(tracing!.activityInterceptors).toHaveLength(1);
      expect(Object.keys(tracing!.workflowSinks)).toEqual(['exporter']);
      tracing!.tracer.startSpan('a-span-for-the-collector').end();
      // Shutdown flushes the batch: the span leaves now, not after the 5 s schedule.
      await tracing!.shutdown();
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ method: 'POST', url: '/v1/traces' });
      expect(received[0].body).toContain('a-span-for-the-collector');
      expect(received[0].body).toContain('openclaw-unit');
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
