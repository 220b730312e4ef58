// Fails the run, never skips it, when the Docker engine does not answer.
import Docker from 'dockerode';

export async function assertDockerReachable(): Promise<void> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `the Docker engine is not reachable (${String(err)}). The Docker suites never skip: ` +
        'run `npm run provision` (installs docker.io and starts dockerd when run as root on Debian) or start Docker yourself, then run the tests again.',
    );
  }
}
