// The second engine of the multi-host tests leaves the host as it found it: the default engine's bridge interface
// (docker0), the host's other links and the default engine's networks are all still there once it has stopped.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dockerodeFor } from '../../src/docker/dockerode-adapter';
import { testDockerConnection } from '../support/agents';
import { startSecondEngine } from '../support/second-engine';

const TEST_TIMEOUT_MS = 120_000;
/** veth ends come and go with other containers on the host while this test runs; every other link must stay. */
const TRANSIENT_LINK = /^veth/;

const IP_TIMEOUT_MS = 10_000;

interface HostNetworking {
  /** Every link of this network namespace as `name`, and each of its addresses as `name address/prefix`. */
  links: string[];
  bridgeName: string | undefined;
  /** The default engine's networks as `id name`. */
  networks: string[];
}

interface IpAddrEntry {
  ifname: string;
  addr_info?: { local: string; prefixlen: number }[];
}

async function hostNetworking(): Promise<HostNetworking> {
  // `ip`, not os.networkInterfaces(): the latter leaves out links that are down, as docker0 is with no container on it.
  const { stdout } = await promisify(execFile)('ip', ['-j', 'addr', 'show'], { timeout: IP_TIMEOUT_MS });
  const links = (JSON.parse(stdout) as IpAddrEntry[])
    .filter((l) => !TRANSIENT_LINK.test(l.ifname))
    .flatMap((l) => [l.ifname, ...(l.addr_info ?? []).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`)]);
  const networks = await dockerodeFor(testDockerConnection()).listNetworks();
  return {
    links: links.sort(),
    bridgeName: networks.find((n) => n.Name === 'bridge')?.Options?.['com.docker.network.bridge.name'],
    networks: networks.map((n) => `${n.Id} ${n.Name}`).sort(),
  };
}

describe('a second Docker engine on this machine', () => {
  it("leaves the host's docker0, its other links and the default engine's networks as they were once it has stopped", async () => {
    const before = await hostNetworking();
    // The default engine's own bridge is there to be kept: its interface exists and has its address.
    expect(before.bridgeName).toBe('docker0');
    expect(before.links).toContain('docker0');
    expect(before.links.filter((l) => l.startsWith('docker0 '))).not.toEqual([]);

    const engine = await startSecondEngine({ name: 'hyg' });
    let during: HostNetworking;
    try {
      during = await hostNetworking();
    } finally {
      await engine.stop();
    }
    const after = await hostNetworking();

    expect(during.links).toEqual(expect.arrayContaining(before.links));
    expect(after.links).toEqual(expect.arrayContaining(before.links));
    expect(after.networks).toEqual(expect.arrayContaining(before.networks));
  }, TEST_TIMEOUT_MS);
});
