// docker-compose.temporal.yml and the injector's Dockerfile, checked without pulling an image: `docker-compose config`
// (the compose schema, interpolation, merge keys) and the structure a production stack needs.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { certificatePaths } from '../../scripts/cluster/certs';
import { uiServerConfig } from '../../scripts/cluster/cluster';
import { clusterPaths, loadClusterSettings } from '../../scripts/cluster/settings';
import { TEMPORAL_DATABASES, temporalServiceEnvironment } from '../../scripts/cluster/temporal';

const ROOT = path.resolve(__dirname, '..', '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.temporal.yml');
const COMPOSE_TIMEOUT_MS = 30_000;
const COMPOSE_OUTPUT_MAX_BYTES = 1024 * 1024;
/** The values the compose file requires (`${VAR:?…}`); anything valid will do for validation. */
const REQUIRED_ENV = { OPENCLAW_SIGNING_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}`, OPENCLAW_API_TOKENS: 'x'.repeat(40) };
const TEMPORAL_SERVICES = ['temporal-frontend', 'temporal-history', 'temporal-matching', 'temporal-worker'];
const LONG_RUNNING = ['postgresql', ...TEMPORAL_SERVICES, 'temporal-ui', 'worker', 'gateway'];
const ONE_SHOT = ['temporal-schema', 'search-attributes'];

interface Healthcheck {
  test?: string[] | string;
  interval?: string;
  retries?: number;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  restart?: string;
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  group_add?: string[];
  ports?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const source = readFileSync(COMPOSE_FILE, 'utf8');
const compose = parse(source, { merge: true }) as ComposeFile;
const configurationDoc = readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
/** Every variable documented in a table of docs/configuration.md. */
const documented = new Set([...configurationDoc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]));

/** `${VAR}`, `${VAR:-default}`, `${VAR:?message}` references, with what follows the name. */
function references(text: string): Array<{ name: string; fallback: string | undefined; required: boolean }> {
  return [...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g)].map((m) => ({ name: m[1], fallback: m[2] === ':-' ? m[3] : undefined, required: m[2] === ':?' }));
}

/** What the container sees for a value of the file, with every reference at its default (or a required value). */
function withDefaults(value: string): string {
  return value.replace(/\$\{([A-Z][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g, (_, name: string, op: string | undefined, rest: string | undefined) => {
    if (op === ':-') return rest ?? '';
    const required = (REQUIRED_ENV as Record<string, string>)[name];
    if (required === undefined) throw new Error(`\${${name}} has no default and no test value`);
    return required;
  });
}

async function dockerCompose(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in REQUIRED_ENV)));
  try {
    const { stdout, stderr } = await promisify(execFile)('docker-compose', ['--file', COMPOSE_FILE, ...args], {
      cwd: ROOT,
      env: { ...baseEnv, ...env },
      timeout: COMPOSE_TIMEOUT_MS,
      maxBuffer: COMPOSE_OUTPUT_MAX_BYTES,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('docker-compose is not installed: `npm run provision` installs it (Debian package docker-compose), or install it yourself');
    }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('docker-compose.temporal.yml', () => {
  it('passes `docker-compose config` (the compose schema) with the required variables set', async () => {
    const result = await dockerCompose(['config', '--quiet'], REQUIRED_ENV);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('refuses to start without a signing key, and says which variable is missing', async () => {
    const result = await dockerCompose(['config', '--quiet'], { OPENCLAW_API_TOKENS: REQUIRED_ENV.OPENCLAW_API_TOKENS });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('set OPENCLAW_SIGNING_KEY');
  });

  it('runs the four Temporal services apart on Postgres, the schema and search-attribute jobs, the Web UI, the worker and the gateway', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...LONG_RUNNING, ...ONE_SHOT].sort());
    for (const name of TEMPORAL_SERVICES) {
      expect(compose.services[name].environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql', SERVICES: name.replace('temporal-', '') });
      expect(compose.services[name].depends_on?.['temporal-schema'].condition).toBe('service_completed_successfully');
    }
    expect(compose.services['temporal-schema'].depends_on?.postgresql.condition).toBe('service_healthy');
  });

  it('gives every service an image or a build, a restart policy, and every long-running one a healthcheck', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect({ name, hasImage: Boolean(service.image || service.build) }).toEqual({ name, hasImage: true });
      if (LONG_RUNNING.includes(name)) {
        expect({ name, restart: service.restart }).toEqual({ name, restart: 'unless-stopped' });
        expect({ name, test: Array.isArray(service.healthcheck?.test) && service.healthcheck?.test[0] }).toEqual({ name, test: 'CMD' });
        expect(service.healthcheck?.interval).toMatch(/^\d+s$/);
        expect(service.healthcheck?.retries).toBeGreaterThan(0);
      } else {
        // A job: retried when it fails, never restarted once it has succeeded.
        expect({ name, restart: service.restart }).toEqual({ name, restart: 'on-failure' });
      }
    }
  });

  it('depends only on services that exist, waits for health where there is a healthcheck, and for the job to finish', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect({ name, target, exists: target in compose.services }).toEqual({ name, target, exists: true });
        if (condition === 'service_healthy') expect({ name, target, healthcheck: Boolean(compose.services[target].healthcheck) }).toEqual({ name, target, healthcheck: true });
        if (ONE_SHOT.includes(target)) expect({ name, target, condition }).toEqual({ name, target, condition: 'service_completed_successfully' });
      }
    }
    expect(compose.services.worker.depends_on?.['search-attributes'].condition).toBe('service_completed_successfully');
  });

  it('declares every named volume it mounts', () => {
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const from = withDefaults(volume).split(':')[0];
        if (!from.startsWith('/') && !from.startsWith('.')) expect(Object.keys(compose.volumes ?? {})).toContain(from);
      }
    }
  });

  it('documents every variable it reads in docs/configuration.md', () => {
    const names = [...new Set(references(source).map((r) => r.name))];
    expect(names.filter((name) => !documented.has(name))).toEqual([]);
    for (const service of ['worker', 'gateway']) {
      const keys = Object.keys(compose.services[service].environment ?? {});
      expect(keys.filter((key) => !documented.has(key))).toEqual([]);
    }
  });

  it("gives the worker and the gateway settings the injector's own config accepts, at their defaults", () => {
    for (const service of ['worker', 'gateway']) {
      const environment = Object.fromEntries(Object.entries(compose.services[service].environment ?? {}).map(([k, v]) => [k, withDefaults(String(v))]));
      let problems: string[] = [];
      try {
        loadConfig(environment, '/app');
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems = err.problems;
      }
      expect({ service, problems }).toEqual({ service, problems: [] });
      expect(environment.TEMPORAL_ADDRESS).toBe('temporal-frontend:7233');
    }
    expect(compose.services.worker.environment?.OPENCLAW_SDK_METRICS_ADDRESS).toBe('0.0.0.0:9464');
  });

  it('mounts the Docker socket into the worker, with the socket group added for its non-root user', () => {
    const worker = compose.services.worker;
    expect(worker.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    expect(worker.environment?.DOCKER_HOST).toBe('unix:///var/run/docker.sock');
    expect(worker.group_add).toEqual(['${DOCKER_GID:-999}']);
    expect(worker.command).toEqual(['node', 'dist/src/worker/main.js']);
    expect(compose.services.gateway.command).toEqual(['node', 'dist/src/gateway/main.js']);
  });

  it('gives the gateway neither the Docker socket nor the signing key: only the worker has them', () => {
    const gateway = compose.services.gateway;
    // Its only mount is the client certificates it talks to Temporal with, read-only.
    expect(gateway.volumes ?? []).toEqual(['${OPENCLAW_CERTS_DIR:-./.data/cluster/certs}:/etc/openclaw/certs:ro']);
    expect(gateway.group_add).toBeUndefined();
    expect(Object.keys(gateway.environment ?? {})).not.toContain('DOCKER_HOST');
    expect(Object.keys(gateway.environment ?? {})).not.toContain('OPENCLAW_SIGNING_KEY');
    expect(compose.services.worker.environment?.OPENCLAW_SIGNING_KEY).toContain('OPENCLAW_SIGNING_KEY');
    // Its healthcheck asks /readyz (Temporal reachable), the cheap probe.
    expect(JSON.stringify(gateway.healthcheck?.test)).toContain('/readyz');
  });

  it('registers exactly the search attributes the workflows set', () => {
    const job = compose.services['search-attributes'];
    const script = Array.isArray(job.command) ? job.command.join(' ') : String(job.command);
    const listed = /for name in ([A-Za-z ]+); do/.exec(script)?.[1].trim().split(/\s+/) ?? [];
    expect(listed.sort()).toEqual(CUSTOM_SEARCH_ATTRIBUTES.map((a) => a.name).sort());
    expect(script).toContain('--type Keyword');
    expect(CUSTOM_SEARCH_ATTRIBUTES.every((a) => a.type === 'Keyword')).toBe(true);
  });
});

describe('docker-compose.temporal.yml follows the tested cluster (scripts/cluster)', () => {
  const settings = loadClusterSettings({});
  const paths = clusterPaths(settings);
  const certs = certificatePaths(paths.certsDir);
  const cluster = temporalServiceEnvironment(settings, paths, certs, 'password');
  const environmentOf = (service: string) => Object.fromEntries(Object.entries(compose.services[service].environment ?? {}).map(([k, v]) => [k, withDefaults(String(v))]));
  /** A file the cluster names by its path on this machine, the compose file by its path in the container: same file name. */
  const fileName = (value: string) => path.basename(value);
  /** Where this machine's ports, addresses and paths differ by nature: one host and loopback here, containers there. */
  const PER_HOST = /(_PORT|^BIND_ON_IP|^TEMPORAL_BROADCAST_ADDRESS|^POSTGRES_SEEDS|^POSTGRES_PWD|^LOG_LEVEL|^DYNAMIC_CONFIG_FILE_PATH)$/;
  const FILES = /(_CERT|_KEY)$/;

  it('gives every Temporal service the settings the cluster runs: shards, database, TLS names, required client auth, refresh', () => {
    for (const service of TEMPORAL_SERVICES) {
      const environment = environmentOf(service);
      for (const [key, value] of Object.entries(cluster)) {
        if (PER_HOST.test(key)) continue;
        const expected = FILES.test(key) ? fileName(value) : value;
        const actual = FILES.test(key) ? fileName(environment[key] ?? '') : environment[key];
        expect({ service, key, value: actual }).toEqual({ service, key, value: expected });
      }
    }
  });

  it('mounts the same dynamic config file, at the path the services read it from', () => {
    const mounted = `./${path.relative(ROOT, paths.dynamicConfig)}`;
    for (const service of TEMPORAL_SERVICES) {
      const target = environmentOf(service).DYNAMIC_CONFIG_FILE_PATH;
      expect(compose.services[service].volumes).toContain(`${mounted}:${target}:ro`);
    }
  });

  it('creates and migrates the same databases with the same embedded schemas', () => {
    const script = String(compose.services['temporal-schema'].command);
    for (const { database, schemaName } of TEMPORAL_DATABASES) expect(script).toContain(`${database}:${schemaName}`);
  });

  it('connects the UI with its own client certificate and host verification, write actions off unless asked for', () => {
    const ui = uiServerConfig(settings, certs);
    const environment = environmentOf('temporal-ui');
    expect(ui.disableWriteActions).toBe(true);
    expect(environment.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    expect(compose.services['temporal-ui'].environment?.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('${TEMPORAL_UI_DISABLE_WRITE_ACTIONS:-true}');
    expect({
      ca: fileName(environment.TEMPORAL_TLS_CA),
      cert: fileName(environment.TEMPORAL_TLS_CERT),
      key: fileName(environment.TEMPORAL_TLS_KEY),
      serverName: environment.TEMPORAL_TLS_SERVER_NAME,
      verify: environment.TEMPORAL_TLS_ENABLE_HOST_VERIFICATION,
    }).toEqual({ ca: fileName(ui.tls.caFile), cert: fileName(ui.tls.certFile), key: fileName(ui.tls.keyFile), serverName: ui.tls.serverName, verify: String(ui.tls.enableHostVerification) });
  });

  it("connects the worker and the gateway over mTLS, each with its own certificate, as the cluster's do", () => {
    for (const [service, client] of [['worker', 'injector-worker'], ['gateway', 'injector-gateway']] as const) {
      const tls = loadConfig(environmentOf(service), '/app').temporalTls;
      expect({ service, ca: fileName(tls?.caFile ?? ''), cert: fileName(tls?.certFile ?? ''), key: fileName(tls?.keyFile ?? ''), serverName: tls?.serverName }).toEqual({
        service,
        ca: fileName(certs.ca),
        cert: fileName(certs.clients[client].cert),
        key: fileName(certs.clients[client].key),
        serverName: cluster.TEMPORAL_TLS_FRONTEND_SERVER_NAME,
      });
    }
  });

  it('publishes gRPC, the UI, the gateway and the metrics on 127.0.0.1 only, by default', () => {
    const published = Object.entries(compose.services).flatMap(([name, service]) => (service.ports ?? []).map((port) => ({ name, address: withDefaults(port).split(':')[0] })));
    expect(published.map((p) => p.name).sort()).toEqual(['gateway', 'temporal-frontend', 'temporal-ui', 'worker']);
    for (const entry of published) expect(entry).toEqual({ name: entry.name, address: '127.0.0.1' });
  });

  it('registers the namespace and the search attributes over mTLS with the CLI certificate', () => {
    const environment = environmentOf('search-attributes');
    expect(fileName(environment.TEMPORAL_TLS_CLIENT_CERT_PATH)).toBe(fileName(certs.clients['temporal-cli'].cert));
    expect(fileName(environment.TEMPORAL_TLS_CLIENT_KEY_PATH)).toBe(fileName(certs.clients['temporal-cli'].key));
    expect(environment.TEMPORAL_TLS_SERVER_NAME).toBe(cluster.TEMPORAL_TLS_FRONTEND_SERVER_NAME);
  });
});

describe('Dockerfile (the injector image)', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds in one stage and runs from another with production dependencies only, as a non-root user', () => {
    expect(stages).toHaveLength(2);
    const [build, runtime] = stages;
    expect(build).toMatch(/^RUN npm ci\b/m);
    expect(build).toMatch(/^RUN npm run build$/m);
    expect(runtime).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(runtime).toMatch(/^COPY --from=build \/build\/dist\/ dist\/$/m);
    const user = /^USER (\S+)$/m.exec(runtime)?.[1] ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(0|root)$/);
    expect(runtime).toMatch(/^CMD \["node", "dist\/src\/worker\/main\.js"\]$/m);
  });

  it('keeps the build context small and free of local state', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.git', 'node_modules', 'dist', '.data', '.tools']) expect(ignored).toContain(entry);
  });
});
