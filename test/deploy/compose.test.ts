// docker-compose.temporal.yml and the injector's Dockerfile, checked without pulling an image: `docker-compose config`
// (the compose schema, interpolation, merge keys) and the structure a production stack needs.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';

const ROOT = path.resolve(__dirname, '..', '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.temporal.yml');
const COMPOSE_TIMEOUT_MS = 30_000;
const COMPOSE_OUTPUT_MAX_BYTES = 1024 * 1024;
/** The values the compose file requires (`${VAR:?…}`); anything valid will do for validation. */
const REQUIRED_ENV = { OPENCLAW_SIGNING_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}`, OPENCLAW_API_TOKENS: 'x'.repeat(40) };
const LONG_RUNNING = ['postgresql', 'temporal', 'temporal-ui', 'worker', 'gateway'];
const ONE_SHOT = ['search-attributes'];

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

  it('gives the signing key to the worker only: the gateway never holds it', () => {
    expect(compose.services.worker.environment).toHaveProperty('OPENCLAW_SIGNING_KEY');
    expect(compose.services.gateway.environment).not.toHaveProperty('OPENCLAW_SIGNING_KEY');
  });

  it('runs Temporal on Postgres, the Web UI, the search-attribute job, the worker and the gateway', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...LONG_RUNNING, ...ONE_SHOT].sort());
    expect(compose.services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(compose.services.temporal.depends_on?.postgresql.condition).toBe('service_healthy');
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
        const from = volume.split(':')[0];
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
      expect(environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
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

  it('registers exactly the search attributes the workflows set', () => {
    const job = compose.services['search-attributes'];
    const script = Array.isArray(job.command) ? job.command.join(' ') : String(job.command);
    const listed = /for name in ([A-Za-z ]+); do/.exec(script)?.[1].trim().split(/\s+/) ?? [];
    expect(listed.sort()).toEqual(CUSTOM_SEARCH_ATTRIBUTES.map((a) => a.name).sort());
    expect(script).toContain('--type Keyword');
    expect(CUSTOM_SEARCH_ATTRIBUTES.every((a) => a.type === 'Keyword')).toBe(true);
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
