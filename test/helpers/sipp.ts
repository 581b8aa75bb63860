/**
 * SIPp as a phone on 127.0.0.1 for resync tests and benches: start a UAS scenario from
 * test/fixtures/sip on a free port and wait until it listens. Skipped on a laptop without
 * /usr/bin/sipp; in CI a missing tool is a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SIPP = '/usr/bin/sipp';
export const SIP_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/sip');

export function requireSipp(ctx: Mocha.Context): void {
  if (existsSync(SIPP)) return;
  if (process.env['CI']) throw new Error(`${SIPP} is required in CI (apt-get install sip-tester)`);
  console.warn(`      skipping: ${SIPP} not found (install the Debian package sip-tester)`);
  ctx.skip();
}

export interface Sipp {
  port: number;
  child: ChildProcess;
  /** SIPp's exit code once it has finished its `-m` calls (0 = every call passed). */
  exited: Promise<number | null>;
  stderr: () => string;
  kill(): void;
}

function portTaken(port: number, transport: 'udp' | 'tcp'): Promise<boolean> {
  return new Promise((resolve) => {
    if (transport === 'udp') {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(true));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(false)));
    } else {
      const s = net.createServer();
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    }
  });
}

export interface SippOptions {
  scenario: string;
  transport?: 'udp' | 'tcp';
  calls: number;
  timeout?: string;
  extraArgs?: string[];
}

/** Starts a SIPp UAS on a random free port; resolves once the port is bound. */
export async function startSipp(o: SippOptions): Promise<Sipp> {
  const transport = o.transport ?? 'udp';
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (await portTaken(port, transport)) continue;
    const child = spawn(SIPP, [
      '-sf', path.join(SIP_FIXTURES, o.scenario), '-t', transport === 'udp' ? 'u1' : 't1',
      '-i', '127.0.0.1', '-p', String(port), '-m', String(o.calls), '-nostdin',
      '-timeout', o.timeout ?? '60s', '-timeout_error', ...(o.extraArgs ?? []),
    ], { cwd: tmpdir(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const sipp: Sipp = { port, child, exited, stderr: () => stderr, kill: () => void child.kill('SIGKILL') };
    for (let i = 0; i < 250 && child.exitCode === null; i++) {
      if (await portTaken(port, transport)) return sipp;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await exited;
    if (attempt === 7) throw new Error(`sipp did not start: ${stderr}`);
  }
  throw new Error('no free port for sipp');
}

/** Polls `check` every 20 ms until it returns a value (not null/undefined) or `ms` pass. */
export async function waitFor<T>(what: string, check: () => T | null | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
