// The gateway's own Prometheus metrics, rendered as text format 0.0.4: requests by route and status, their latency, and
// the injections it started. Nothing here costs an upstream call; step metrics come from the workers, where steps run.

/** Upper bounds of the request latency buckets, in seconds: reads take milliseconds, `?wait=true` up to a minute. */
export const REQUEST_LATENCY_BUCKETS_SECONDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Distinct (method, route, status) series kept; past it, new ones are counted under route="other". */
export const MAX_REQUEST_SERIES = 500;

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export interface GatewayMetrics {
  injectionStarted(): void;
  /** One answered request: its method, route pattern (not the raw path), status and duration. */
  requestFinished(method: string, route: string, status: number, seconds: number): void;
  render(): string;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function createGatewayMetrics(): GatewayMetrics {
  let started = 0;
  const requests = new Map<string, number>();
  const latency = new Map<string, Histogram>();

  const observe = (key: string, seconds: number) => {
    let h = latency.get(key);
    if (!h) {
      h = { counts: REQUEST_LATENCY_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };
      latency.set(key, h);
    }
    REQUEST_LATENCY_BUCKETS_SECONDS.forEach((bound, i) => {
      if (seconds <= bound) h.counts[i]++;
    });
    h.sum += seconds;
    h.count++;
  };

  return {
    injectionStarted: () => {
      started++;
    },
    requestFinished: (method, route, status, seconds) => {
      const known = (key: string, map: Map<string, unknown>) => map.has(key) || map.size < MAX_REQUEST_SERIES;
      const labels = `method="${escapeLabel(method)}",route="${escapeLabel(route)}"`;
      const series = `${labels},status="${status}"`;
      const counted = known(series, requests) ? series : `method="other",route="other",status="${status}"`;
      requests.set(counted, (requests.get(counted) ?? 0) + 1);
      if (Number.isFinite(seconds) && seconds >= 0) observe(known(labels, latency) ? labels : 'method="other",route="other"', seconds);
    },
    render: () => {
      const lines: string[] = [];
      lines.push('# HELP openclaw_injections_started_total Injections this gateway started (idempotent repeats not counted).', '# TYPE openclaw_injections_started_total counter', `openclaw_injections_started_total ${started}`);
      lines.push('# HELP openclaw_gateway_requests_total Requests the gateway answered, by method, route pattern and status.', '# TYPE openclaw_gateway_requests_total counter');
      for (const [labels, count] of [...requests.entries()].sort(([a], [b]) => a.localeCompare(b))) lines.push(`openclaw_gateway_requests_total{${labels}} ${count}`);
      const name = 'openclaw_gateway_request_duration_seconds';
      lines.push(`# HELP ${name} Time from a request's arrival to its answer, by method and route pattern.`, `# TYPE ${name} histogram`);
      for (const [labels, h] of [...latency.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        REQUEST_LATENCY_BUCKETS_SECONDS.forEach((bound, i) => lines.push(`${name}_bucket{${labels},le="${bound}"} ${h.counts[i]}`));
        lines.push(`${name}_bucket{${labels},le="+Inf"} ${h.count}`, `${name}_sum{${labels}} ${h.sum}`, `${name}_count{${labels}} ${h.count}`);
      }
      return lines.join('\n') + '\n';
    },
  };
}
