// OPENCLAW_DOCKER_HOSTS (the hosts a gateway spreads a swarm over) and OPENCLAW_SDK_METRICS_ADDRESS, validated at start-up.
import { ConfigError, loadConfig, MAX_DOCKER_HOSTS } from '../../src/config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('multi-host settings', () => {
  it("defaults the swarm hosts to this process's own host, and metrics to off", () => {
    expect(loadConfig({}).dockerHosts).toEqual(['local']);
    expect(loadConfig({ OPENCLAW_DOCKER_HOST_NAME: 'rack-3' }).dockerHosts).toEqual(['rack-3']);
    expect(loadConfig({}).sdkMetricsAddress).toBeUndefined();
  });

  it('reads a comma-separated list, spaces allowed', () => {
    expect(loadConfig({ OPENCLAW_DOCKER_HOSTS: 'alpha, beta ,gamma-2' }).dockerHosts).toEqual(['alpha', 'beta', 'gamma-2']);
  });

  it('names each bad host name, a repeat, and too many hosts', () => {
    expect(problemsOf({ OPENCLAW_DOCKER_HOSTS: 'alpha,Beta_1' })).toEqual(['OPENCLAW_DOCKER_HOSTS: "Beta_1" is not a lowercase host name (a-z, 0-9, -)']);
    expect(problemsOf({ OPENCLAW_DOCKER_HOSTS: 'alpha,beta,alpha' })).toEqual(['OPENCLAW_DOCKER_HOSTS: "alpha" is listed twice']);
    expect(problemsOf({ OPENCLAW_DOCKER_HOSTS: ',' })).toEqual(['OPENCLAW_DOCKER_HOSTS=",": expected at least one name']);
    const many = Array.from({ length: MAX_DOCKER_HOSTS + 1 }, (_, i) => `h${i}`).join(',');
    expect(problemsOf({ OPENCLAW_DOCKER_HOSTS: many })).toEqual([`OPENCLAW_DOCKER_HOSTS: expected at most ${MAX_DOCKER_HOSTS} names (got ${MAX_DOCKER_HOSTS + 1})`]);
  });

  it('takes a host:port for the metrics exporter and refuses anything else', () => {
    expect(loadConfig({ OPENCLAW_SDK_METRICS_ADDRESS: '0.0.0.0:9464' }).sdkMetricsAddress).toBe('0.0.0.0:9464');
    expect(problemsOf({ OPENCLAW_SDK_METRICS_ADDRESS: 'http://x/metrics' })[0]).toMatch(/^OPENCLAW_SDK_METRICS_ADDRESS="http:\/\/x\/metrics": expected host:port/);
  });
});
