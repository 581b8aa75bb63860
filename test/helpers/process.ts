/**
 * A real deskprov process for tests that need one (shutdown, production heap limits): a temp
 * directory with a config file and database, `node --import tsx server/main.ts --config ...`
 * (or another entry, e.g. the build `npm start` runs), resolved once /healthz answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitHealthy } from './ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm start`'s command line (package.json): the program, its Node flags and what it runs. */
export function startScript(): { program: string; flags: string[]; entry: string[] } {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [program = '', ...args] = pkg.scripts.start.split(/\s+/);
  return { program, flags: args.filter((a) => a.startsWith('--')), entry: args.filter((a) => !a.startsWith('--')) };
}

export interface DeskprovProcess {
  child: ChildProcess;
  port: number;
  dir: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGKILL if still running; removes the temp directory. */
  destroy(): void;
}

export async function startDeskprovProcess(o: {
  prefix: string;
  token: string;
  /** Merged over the defaults below (HTTP on a free loopback port, SIP on an ephemeral one). */
  config?: Record<string, unknown>;
  /** Node flags before `--import tsx`. */
  nodeArgs?: string[];
  /** What node runs after the flags (default `--import tsx server/main.ts`: the sources). */
  entry?: string[];
  /** Runs before the process starts, e.g. to seed its database (`<dir>/deskprov.db`). */
  prepare?: (dbPath: string) => void;
}): Promise<DeskprovProcess> {
  const dir = mkdtempSync(join(tmpdir(), o.prefix));
  o.prepare?.(join(dir, 'deskprov.db'));
  const port = await freePort();
  const config = join(dir, 'deskprov.json');
  writeFileSync(config, JSON.stringify({
    database: { path: join(dir, 'deskprov.db') },
    admin: { token: o.token },
    sip: { bindHost: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
    ...o.config,
    // Listener keys given (e.g. phoneWorkers) go beside the test's host and port.
    http: { ...(o.config?.http as object | undefined), host: '127.0.0.1', port },
  }));
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), ...(o.entry ?? ['--import', 'tsx', 'server/main.ts']), '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // Read stdout even if nobody looks at it: a full pipe would block the server's log writes.
  child.stdout?.resume();
  const destroy = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(port, child);
  } catch (err) {
    destroy();
    throw new Error(`${(err as Error).message}: ${stderr.slice(-500)}`);
  }
  return { child, port, dir, stderr: () => stderr, destroy };
}
