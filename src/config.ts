// The one place settings come from: read from the environment once, validated, frozen. Documented in docs/configuration.md.
import path from 'node:path';
import { AGENT_IDENTITIES, AgentIdentity, DEFAULT_AGENT_IDENTITY } from './docker/agent-identity';
import { ApiTokenGrant, parseApiTokens } from './shared/api-tokens';
import { KEY_ID_PATTERN, parseSigningKey, parseTrustedKeys, SigningKeyPair, TrustedKeys } from './signing/keys';
import { SigningError } from './signing/errors';
import { DEFAULT_ENVELOPE_TTL_MS, MAX_ENVELOPE_TTL_MS, MIN_ENVELOPE_TTL_MS } from './signing/sealing';

export { MIN_API_TOKEN_CHARS } from './shared/api-tokens';

/** Shortest secret accepted for a MAC key (OPENCLAW_PAGE_TOKEN_SECRET). */
export const MIN_SECRET_BYTES = 16;

export interface Config {
  /** host:port of an existing Temporal frontend; undefined means "start the embedded dev server". */
  temporalAddress: string | undefined;
  temporalNamespace: string;
  /** TLS to the Temporal frontend (mTLS with a client certificate); undefined: plaintext, as the embedded dev server speaks. */
  temporalTls: TemporalTlsConfig | undefined;
  /** Task queue for workflows and activities that need no Docker host. */
  taskQueue: string;
  /** Name of the Docker host this process serves; its activities poll `${taskQueue}-docker-${dockerHostName}`. */
  dockerHostName: string;
  /** Every Docker host a swarm injection resolves its targets on (the gateway passes them to the workflow); default: [dockerHostName]. */
  dockerHosts: string[];
  /** dockerode connection string: unix:///path or tcp://host:port (TLS from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH). */
  dockerHost: string;
  dockerTlsVerify: boolean;
  dockerCertPath: string | undefined;
  gatewayHost: string;
  gatewayPort: number;
  /** Bearer tokens with their scopes (OPENCLAW_API_TOKENS); empty: dev mode generates one, or the gateway refuses to start. */
  apiTokens: ApiTokenGrant[];
  insecureDev: boolean;
  /** Gateway: key of the MAC that seals page tokens; undefined means a random key per gateway process. */
  pageTokenSecret: Buffer | undefined;
  dataDir: string;
  /**
   * The workers' Ed25519 private key, from OPENCLAW_SIGNING_KEY (`kid:base64-seed`); undefined: see signingKeyFile,
   * else (dev) a key pair generated into the data dir. Only workers next to a Docker engine use it (they seal).
   */
  signingKey: SigningKeyPair | undefined;
  /** OPENCLAW_SIGNING_KEY_FILE and OPENCLAW_SIGNING_KEY_ID: the private key as a PKCS#8 PEM file, and its key id. */
  signingKeyFile: { path: string; keyId: string } | undefined;
  /** OPENCLAW_TRUSTED_KEYS: public keys whose earlier programs a rollback may re-seal (the signing key's own is added). */
  trustedKeys: TrustedKeys;
  /** OPENCLAW_ENVELOPE_TTL_MS: how long a sealed program stays acceptable to its agent. */
  envelopeTtlMs: number;
  temporalCliPath: string | undefined;
  devServerPort: number;
  devServerUiPort: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** host:port where the worker serves the Temporal SDK's Prometheus metrics; undefined: not exported. */
  sdkMetricsAddress: string | undefined;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: base URL of an OTLP/HTTP collector traces go to (`<url>/v1/traces`); undefined: no tracing. */
  otlpEndpoint: string | undefined;
  /** OTEL_SERVICE_NAME: `service.name` of this process's spans; undefined: openclaw, openclaw-worker or openclaw-gateway by entry point. */
  otelServiceName: string | undefined;
  /**
   * Host-path transfer mode: agents whose programs and logs directories are bind mounts from under this absolute
   * directory of the worker's host are read and written there directly, not through the Docker archive API.
   */
  hostPathRoot: string | undefined;
  /**
   * OPENCLAW_AGENT_IDENTITY: `name` (default), an agent is the container labelled dreamnet.agent=<id> AND named
   * openclaw-agent-<id>, so a copy of its labels is ignored; `label`, the label alone (swarms named otherwise).
   */
  agentIdentity: AgentIdentity;
  /**
   * Worker slots: workflow tasks, activities and local activities in progress at once in each of the process's
   * workers. An agent's child holds a workflow task slot while its local steps run, so `workflowTasks` bounds how many
   * agents one worker moves forward at once, whatever MAX_PARALLEL says.
   */
  workerSlots: { workflowTasks: number; activities: number; localActivities: number };
  /**
   * Worker Versioning (OPENCLAW_WORKER_DEPLOYMENT and OPENCLAW_WORKER_BUILD_ID, both or neither): the process's
   * workers poll as this Worker Deployment Version, and a workflow is pinned to the version that started it.
   * Undefined (the default): unversioned workers, as on the dev server.
   */
  workerDeployment: { deploymentName: string; buildId: string } | undefined;
}

/** File paths (read at connect time, so a rotated certificate is picked up by the next start) and the name to verify. */
export interface TemporalTlsConfig {
  /** PEM CA bundle that signed the frontend's certificate; undefined: the system's roots. */
  caFile: string | undefined;
  /** PEM client certificate and its key, presented to a frontend that requires mTLS; both or neither. */
  certFile: string | undefined;
  keyFile: string | undefined;
  /** Name the frontend's certificate must carry, when it differs from the host of TEMPORAL_ADDRESS. */
  serverName: string | undefined;
}

/** The most slots of one kind a worker may be given. */
export const MAX_WORKER_SLOTS = 5_000;

/** Docker hosts one gateway may spread a swarm over (each is one resolve activity per injection). */
export const MAX_DOCKER_HOSTS = 64;
const DOCKER_HOST_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DOCKER_HOST_NAME_EXPECTED = 'a lowercase host name (a-z, 0-9, -)';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates every setting; throws ConfigError naming each bad variable and what it expects. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);
  const dockerHostName = read.string('OPENCLAW_DOCKER_HOST_NAME', 'local', DOCKER_HOST_NAME_PATTERN, DOCKER_HOST_NAME_EXPECTED);

  const config: Config = {
    temporalAddress: read.optional('TEMPORAL_ADDRESS', /^[A-Za-z0-9.-]+:\d{1,5}$/, 'host:port, e.g. temporal.internal:7233'),
    temporalNamespace: read.string('TEMPORAL_NAMESPACE', 'default', /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'a Temporal namespace name'),
    temporalTls: readTemporalTls(read, cwd),
    taskQueue: read.string('OPENCLAW_TASK_QUEUE', 'openclaw-injector', /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, . _ -'),
    dockerHostName,
    dockerHosts: read.list('OPENCLAW_DOCKER_HOSTS', MAX_DOCKER_HOSTS, DOCKER_HOST_NAME_PATTERN, DOCKER_HOST_NAME_EXPECTED) ?? [dockerHostName],
    dockerHost: read.string('DOCKER_HOST', 'unix:///var/run/docker.sock', /^(unix:\/\/\/.+|tcp:\/\/[^\s]+:\d{1,5}|npipe:.+)$/, 'unix:///path/to/docker.sock or tcp://host:port'),
    dockerTlsVerify: read.boolean('DOCKER_TLS_VERIFY', false),
    dockerCertPath: read.optional('DOCKER_CERT_PATH', /.+/, 'a directory holding ca.pem, cert.pem and key.pem'),
    gatewayHost: read.string('OPENCLAW_GATEWAY_HOST', '127.0.0.1', /^[A-Za-z0-9.:-]+$/, 'an interface address, e.g. 127.0.0.1 or 0.0.0.0'),
    gatewayPort: read.port('OPENCLAW_GATEWAY_PORT', 7005),
    apiTokens: read.tokens('OPENCLAW_API_TOKENS'),
    insecureDev: read.boolean('OPENCLAW_INSECURE_DEV', false),
    dataDir: path.resolve(cwd, read.string('OPENCLAW_DATA_DIR', '.data', /.+/, 'a directory path')),
    pageTokenSecret: read.secret('OPENCLAW_PAGE_TOKEN_SECRET'),
    signingKey: read.signingKey('OPENCLAW_SIGNING_KEY'),
    signingKeyFile: read.signingKeyFile('OPENCLAW_SIGNING_KEY_FILE', 'OPENCLAW_SIGNING_KEY_ID'),
    trustedKeys: read.trustedKeys('OPENCLAW_TRUSTED_KEYS'),
    envelopeTtlMs: read.integer('OPENCLAW_ENVELOPE_TTL_MS', DEFAULT_ENVELOPE_TTL_MS, MIN_ENVELOPE_TTL_MS, MAX_ENVELOPE_TTL_MS),
    temporalCliPath: read.optional('TEMPORAL_CLI_PATH', /.+/, 'path to the temporal CLI binary'),
    devServerPort: read.port('OPENCLAW_DEV_SERVER_PORT', 7233),
    devServerUiPort: read.port('OPENCLAW_DEV_SERVER_UI_PORT', 8233),
    logLevel: read.oneOf('OPENCLAW_LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error'] as const),
    sdkMetricsAddress: read.optional('OPENCLAW_SDK_METRICS_ADDRESS', /^[A-Za-z0-9.:[\]-]+:\d{1,5}$/, 'host:port to serve Prometheus metrics on, e.g. 0.0.0.0:9464'),
    otlpEndpoint: read.optional('OTEL_EXPORTER_OTLP_ENDPOINT', /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'an http(s) URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318'),
    otelServiceName: read.optional('OTEL_SERVICE_NAME', /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a service name: letters, digits, . _ - (at most 128)'),
    hostPathRoot: read.optional('OPENCLAW_HOST_PATH_ROOT', /^\/.*[^/]$/, 'an absolute directory path, e.g. /var/lib/openclaw/agents'),
    agentIdentity: read.oneOf('OPENCLAW_AGENT_IDENTITY', DEFAULT_AGENT_IDENTITY, AGENT_IDENTITIES),
    workerSlots: {
      // The Temporal SDK's own defaults: more slots measured no faster (BENCHMARKS.md, tuning step 6).
      workflowTasks: read.integer('OPENCLAW_WORKFLOW_TASK_SLOTS', 40, 1, MAX_WORKER_SLOTS),
      activities: read.integer('OPENCLAW_ACTIVITY_SLOTS', 100, 1, MAX_WORKER_SLOTS),
      localActivities: read.integer('OPENCLAW_LOCAL_ACTIVITY_SLOTS', 100, 1, MAX_WORKER_SLOTS),
    },
    workerDeployment: readWorkerDeployment(read, problems),
  };

  if (config.temporalTls && !config.temporalAddress) {
    problems.push('TEMPORAL_TLS settings need TEMPORAL_ADDRESS: the embedded dev server speaks plaintext only');
  }
  if (config.temporalTls && (config.temporalTls.certFile === undefined) !== (config.temporalTls.keyFile === undefined)) {
    problems.push('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both (mTLS) or neither');
  }
  if (config.signingKey && config.signingKeyFile) problems.push('OPENCLAW_SIGNING_KEY and OPENCLAW_SIGNING_KEY_FILE: give one of them, not both');
  if (config.dockerTlsVerify && !config.dockerCertPath) {
    problems.push('DOCKER_TLS_VERIFY=1 needs DOCKER_CERT_PATH: a directory holding ca.pem, cert.pem and key.pem');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

const DEPLOYMENT_PART_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function readWorkerDeployment(read: EnvReader, problems: string[]): Config['workerDeployment'] {
  const deploymentName = read.optional('OPENCLAW_WORKER_DEPLOYMENT', DEPLOYMENT_PART_PATTERN, 'a deployment name: letters, digits, . _ - (e.g. openclaw-injector)');
  const buildId = read.optional('OPENCLAW_WORKER_BUILD_ID', DEPLOYMENT_PART_PATTERN, 'a build id: letters, digits, . _ - (e.g. 0.1.0-78e050e)');
  if ((deploymentName === undefined) !== (buildId === undefined)) {
    problems.push('OPENCLAW_WORKER_DEPLOYMENT and OPENCLAW_WORKER_BUILD_ID go together: set both (Worker Versioning) or neither');
    return undefined;
  }
  return deploymentName !== undefined && buildId !== undefined ? Object.freeze({ deploymentName, buildId }) : undefined;
}

const PEM_FILE_EXPECTED = 'a path to a PEM file';
const SERVER_NAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** TEMPORAL_TLS=1 alone: TLS with the system's roots; any of the file or name settings turns TLS on too. */
function readTemporalTls(read: EnvReader, cwd: string): TemporalTlsConfig | undefined {
  const file = (name: string) => {
    const value = read.optional(name, /^[^\0]+$/, PEM_FILE_EXPECTED);
    return value === undefined ? undefined : path.resolve(cwd, value);
  };
  const tls: TemporalTlsConfig = {
    caFile: file('TEMPORAL_TLS_CA'),
    certFile: file('TEMPORAL_TLS_CERT'),
    keyFile: file('TEMPORAL_TLS_KEY'),
    serverName: read.optional('TEMPORAL_TLS_SERVER_NAME', SERVER_NAME_PATTERN, 'a DNS name, e.g. frontend.temporal.internal'),
  };
  const enabled = read.boolean('TEMPORAL_TLS', false) || Object.values(tls).some((value) => value !== undefined);
  return enabled ? Object.freeze(tls) : undefined;
}

/** Entry points call this: a bad setting stops the process with a message naming the variable. */
export function loadConfigOrExit(env: Env = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`openclaw: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  optional(name: string, pattern: RegExp, expected: string): string | undefined {
    const value = this.raw(name);
    if (value !== undefined && !pattern.test(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)}: expected ${expected}`);
      return undefined;
    }
    return value;
  }

  string(name: string, fallback: string, pattern: RegExp, expected: string): string {
    return this.optional(name, pattern, expected) ?? fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(value)}: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  port(name: string, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const port = Number(value);
    if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
      this.problems.push(`${name}=${JSON.stringify(value)}: expected a TCP port from 1 to 65535`);
      return fallback;
    }
    return port;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (/^(1|true|yes)$/i.test(value)) return true;
    if (/^(0|false|no)$/i.test(value)) return false;
    this.problems.push(`${name}=${JSON.stringify(value)}: expected a boolean (1/0, true/false, yes/no)`);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)}: expected one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  /** A comma-separated list of distinct names, each matching `pattern`; undefined when unset or invalid. */
  list(name: string, maxItems: number, pattern: RegExp, expected: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
    const problemsBefore = this.problems.length;
    if (items.length === 0) this.problems.push(`${name}=${JSON.stringify(value)}: expected at least one name`);
    if (items.length > maxItems) this.problems.push(`${name}: expected at most ${maxItems} names (got ${items.length})`);
    for (const item of items) if (!pattern.test(item)) this.problems.push(`${name}: ${JSON.stringify(item)} is not ${expected}`);
    const duplicate = items.find((item, i) => items.indexOf(item) !== i);
    if (duplicate !== undefined) this.problems.push(`${name}: ${JSON.stringify(duplicate)} is listed twice`);
    return this.problems.length === problemsBefore ? items : undefined;
  }

  /** Comma-separated `TOKEN[@SCOPES]` entries (src/shared/api-tokens.ts); a problem names the entry by position, never its token. */
  tokens(name: string): ApiTokenGrant[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    const { grants, problems } = parseApiTokens(value);
    this.problems.push(...problems.map((p) => `${name}: ${p}`));
    return grants;
  }

  /** A MAC key as hex or base64, at least MIN_SECRET_BYTES long. */
  secret(name: string): Buffer | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const key = /^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0 ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
    if (key.length < MIN_SECRET_BYTES) {
      this.problems.push(`${name}: expected at least ${MIN_SECRET_BYTES} bytes as hex or base64 (got ${key.length} bytes)`);
      return undefined;
    }
    return key;
  }

  signingKey(name: string): SigningKeyPair | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      return parseSigningKey(value, name);
    } catch (err) {
      if (!(err instanceof SigningError)) throw err;
      this.problems.push(err.message);
      return undefined;
    }
  }

  signingKeyFile(fileName: string, idName: string): { path: string; keyId: string } | undefined {
    const file = this.optional(fileName, /^\/.+/, 'an absolute path to a PKCS#8 PEM Ed25519 private key');
    const keyId = this.optional(idName, KEY_ID_PATTERN, 'a key id: letters, digits, . _ - (at most 64)');
    if (file === undefined && keyId === undefined) return undefined;
    if (file === undefined || keyId === undefined) {
      this.problems.push(`${fileName} and ${idName}: give both (the key file and the key id agents know it by)`);
      return undefined;
    }
    return { path: file, keyId };
  }

  trustedKeys(name: string): TrustedKeys {
    const value = this.raw(name);
    if (value === undefined) return new Map();
    try {
      return parseTrustedKeys(value, name);
    } catch (err) {
      if (!(err instanceof SigningError)) throw err;
      this.problems.push(err.message);
      return new Map();
    }
  }

}
