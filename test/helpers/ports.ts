import net from 'node:net';

/** A TCP port free on 127.0.0.1 right now (for tests that start a real deskprov process). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Resolves once the deskprov process `child` answers /healthz on `port`; rejects if it exits or takes over 20 s. */
export async function waitHealthy(port: number, child: { exitCode: number | null }): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`deskprov exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('deskprov did not come up');
}
