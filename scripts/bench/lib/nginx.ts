/**
 * Debian's nginx as the yardstick: static files from a temp dir, bound to 127.0.0.1 only, its
 * own prefix and config (no system config, no access log). Installed with apt when missing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, waitForHttp } from './server.js';

const NGINX = '/usr/sbin/nginx';

export function ensureNginx(): void {
  if (existsSync(NGINX)) return;
  console.log('nginx missing: apt-get install -y nginx-light');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'nginx-light'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

export interface RunningNginx {
  port: number;
  /** Master pid (workers are its children). */
  pid: number;
  stop(): Promise<void>;
}

/** Serves `root` on 127.0.0.1 with settings a provisioning server would use: keep-alive, big backlog. */
export async function startNginx(prefix: string, root: string, backlog = 4096): Promise<RunningNginx> {
  ensureNginx();
  const port = await freePort();
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  // nginx workers drop root: they must be able to read the (mkdtemp, 0700) path.
  for (let d = root; d !== '/' && d.startsWith(tmpdir()) && d !== tmpdir(); d = dirname(d)) chmodSync(d, 0o755);
  writeFileSync(join(root, '__ready'), 'ok\n');
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes auto;
worker_rlimit_nofile 65536;
daemon off;
master_process on;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs/error.log')} error;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  log_not_found off;
  server_tokens off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  keepalive_timeout 65s;
  open_file_cache max=200000 inactive=60s;
  open_file_cache_valid 60s;
  client_body_temp_path ${join(prefix, 'tmp-body')};
  proxy_temp_path ${join(prefix, 'tmp-proxy')};
  fastcgi_temp_path ${join(prefix, 'tmp-fcgi')};
  uwsgi_temp_path ${join(prefix, 'tmp-uwsgi')};
  scgi_temp_path ${join(prefix, 'tmp-scgi')};
  types { text/plain cfg boot; text/xml xml; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port} backlog=${backlog};
    root ${root};
    add_header Cache-Control no-store;
    etag on;
  }
}
`,
  );
  const child = spawn(NGINX, ['-p', prefix, '-c', conf, '-e', join(prefix, 'logs/error.log')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitForHttp(`http://127.0.0.1:${port}/__ready`, 15_000, () => child.exitCode === null);
  return {
    port,
    pid: child.pid ?? 0,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
