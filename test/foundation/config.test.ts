import { ConfigError, loadConfig } from '../../src/config';

describe('config', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig({}, '/srv/openclaw');
    expect(config.temporalAddress).toBeUndefined();
    expect(config.gatewayPort).toBe(7005);
    expect(config.gatewayHost).toBe('127.0.0.1');
    expect(config.taskQueue).toBe('openclaw-injector');
    expect(config.dockerHostName).toBe('local');
    expect(config.dataDir).toBe('/srv/openclaw/.data');
    expect(config.apiTokens).toEqual([]);
    expect(config.workerSlots).toEqual({ workflowTasks: 40, activities: 100, localActivities: 100 });
  });

  it('reads worker slots within 1 to 5,000 and names a bad one', () => {
    expect(loadConfig({ OPENCLAW_WORKFLOW_TASK_SLOTS: '500', OPENCLAW_LOCAL_ACTIVITY_SLOTS: '1' }).workerSlots).toEqual({ workflowTasks: 500, activities: 100, localActivities: 1 });
    expect(() => loadConfig({ OPENCLAW_ACTIVITY_SLOTS: '0' })).toThrow('OPENCLAW_ACTIVITY_SLOTS="0": expected a whole number from 1 to 5000');
    expect(() => loadConfig({ OPENCLAW_WORKFLOW_TASK_SLOTS: '1e3' })).toThrow('OPENCLAW_WORKFLOW_TASK_SLOTS="1e3": expected a whole number from 1 to 5000');
  });

  it('names every bad variable and what it expects, in one error', () => {
    let error: unknown;
    try {
      loadConfig({ OPENCLAW_GATEWAY_PORT: '70050', TEMPORAL_ADDRESS: 'not an address', OPENCLAW_API_TOKENS: 'short', OPENCLAW_INSECURE_DEV: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('OPENCLAW_GATEWAY_PORT="70050": expected a TCP port from 1 to 65535');
    expect(message).toContain('TEMPORAL_ADDRESS="not an address": expected host:port');
    expect(message).toContain('OPENCLAW_API_TOKENS: token #1 must be at least 32 printable characters');
    expect(message).toContain('OPENCLAW_INSECURE_DEV="maybe": expected a boolean');
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('reads OPENCLAW_API_TOKENS entries: a bare token has every scope, TOKEN@scopes only those, inject and steer per group', () => {
    const a = 'a'.repeat(32);
    const b = 'b'.repeat(40);
    const c = 'c'.repeat(33);
    const config = loadConfig({ OPENCLAW_API_TOKENS: `${a}, ${b}@read+steer:blue|green , ${c}@inject:blue+compile` });
    expect(config.apiTokens).toEqual([
      { token: a, scopes: { read: { groups: null }, compile: { groups: null }, inject: { groups: null }, steer: { groups: null } } },
      { token: b, scopes: { read: { groups: null }, steer: { groups: ['blue', 'green'] } } },
      { token: c, scopes: { inject: { groups: ['blue'] }, compile: { groups: null } } },
    ]);
  });

  it('names the bad entry by its position and its scopes, never by its token', () => {
    const secret = 's'.repeat(40);
    const cases: Array<[string, string]> = [
      [`${secret}@`, 'OPENCLAW_API_TOKENS: token #1 (scopes ""): expected scopes after @'],
      [`${secret}@read+admin`, 'OPENCLAW_API_TOKENS: token #1 (scopes "read+admin"): unknown scope "admin"; expected read, compile, inject, steer'],
      [`${'x'.repeat(40)},${secret}@read:blue`, 'OPENCLAW_API_TOKENS: token #2 (scopes "read:blue"): only inject and steer can be limited to groups, not read'],
      [`${secret}@inject:bad group`, 'OPENCLAW_API_TOKENS: token #1 (scopes "inject:bad group"): "bad group" is not a group name'],
      [`${secret}@steer+steer`, 'OPENCLAW_API_TOKENS: token #1 (scopes "steer+steer"): scope steer is given twice'],
      [`short@read`, 'OPENCLAW_API_TOKENS: token #1 must be at least 32 printable characters with no spaces (got 5)'],
      [`${secret},${secret}@read`, 'OPENCLAW_API_TOKENS: token #2 repeats an earlier token'],
    ];
    for (const [value, message] of cases) {
      let error: unknown;
      try {
        loadConfig({ OPENCLAW_API_TOKENS: value });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(message);
      expect((error as ConfigError).message).not.toContain(secret);
    }
  });

  it('reads a page token secret like a key, at least 16 bytes', () => {
    expect(loadConfig({ OPENCLAW_PAGE_TOKEN_SECRET: 'cd'.repeat(32) }).pageTokenSecret?.length).toBe(32);
    expect(loadConfig({}).pageTokenSecret).toBeUndefined();
    expect(() => loadConfig({ OPENCLAW_PAGE_TOKEN_SECRET: 'abcd' })).toThrow(/OPENCLAW_PAGE_TOKEN_SECRET: expected at least 16 bytes/);
  });

  it('reads an Ed25519 signing key as kid:base64-seed, refuses the old HMAC hex, and checks the trusted keys and the TTL', () => {
    const seed = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ OPENCLAW_SIGNING_KEY: `k1:${seed}` }).signingKey?.keyId).toBe('k1');
    expect(() => loadConfig({ OPENCLAW_SIGNING_KEY: 'ab'.repeat(16) })).toThrow(/OPENCLAW_SIGNING_KEY: expected kid:base64/);
    expect(() => loadConfig({ OPENCLAW_SIGNING_KEY: 'k1:abcd' })).toThrow(/OPENCLAW_SIGNING_KEY: expected 32 bytes of base64/);
    expect(() => loadConfig({ OPENCLAW_SIGNING_KEY_FILE: '/keys/k.pem' })).toThrow(/give both/);
    expect(() => loadConfig({ OPENCLAW_SIGNING_KEY: `k1:${seed}`, OPENCLAW_SIGNING_KEY_FILE: '/k.pem', OPENCLAW_SIGNING_KEY_ID: 'k1' })).toThrow(/not both/);
    expect(() => loadConfig({ OPENCLAW_TRUSTED_KEYS: 'k1' })).toThrow(/OPENCLAW_TRUSTED_KEYS: entry #1 is not kid:base64-public-key/);
    expect(() => loadConfig({ OPENCLAW_ENVELOPE_TTL_MS: '5' })).toThrow(/OPENCLAW_ENVELOPE_TTL_MS/);
    expect(loadConfig({}).envelopeTtlMs).toBe(15 * 60 * 1000);
  });

  it('needs DOCKER_CERT_PATH when TLS verification is on', () => {
    expect(() => loadConfig({ DOCKER_HOST: 'tcp://docker-b:2376', DOCKER_TLS_VERIFY: '1' })).toThrow(/DOCKER_TLS_VERIFY=1 needs DOCKER_CERT_PATH/);
  });

  it('turns Worker Versioning on with a deployment name and a build id together, off by default', () => {
    expect(loadConfig({}).workerDeployment).toBeUndefined();
    expect(loadConfig({ OPENCLAW_WORKER_DEPLOYMENT: 'openclaw-injector', OPENCLAW_WORKER_BUILD_ID: '0.1.0-abc' }).workerDeployment).toEqual({ deploymentName: 'openclaw-injector', buildId: '0.1.0-abc' });
    expect(() => loadConfig({ OPENCLAW_WORKER_BUILD_ID: '0.1.0-abc' })).toThrow(/OPENCLAW_WORKER_DEPLOYMENT and OPENCLAW_WORKER_BUILD_ID go together/);
    expect(() => loadConfig({ OPENCLAW_WORKER_DEPLOYMENT: 'a b', OPENCLAW_WORKER_BUILD_ID: 'x' })).toThrow(/OPENCLAW_WORKER_DEPLOYMENT/);
  });
});
