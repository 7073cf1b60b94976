import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import fs from 'fs';
import net from 'net';
import path from 'path';
import pg from 'pg';
import { describe, it, expect } from 'vitest';
import { POSTGRES_MAJORS, startThrowawayPostgres } from '../../infra/sandbox/server';

const TIMEOUT = 60_000;
const REPO_ROOT = path.resolve(__dirname, '../..');
const SERVER_MODULE = path.join(REPO_ROOT, 'infra/sandbox/server.ts');

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function postmasterPid(dataDir: string): number {
  return Number.parseInt(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10);
}

/** True when the process is gone or a zombie: a postmaster orphaned by a dead parent stays a zombie until init reaps it. */
function processIsDead(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

describe('startThrowawayPostgres', () => {
  it.each(POSTGRES_MAJORS)('runs PostgreSQL %i, the major it was asked for', async (major) => {
    const server = await startThrowawayPostgres({ major });
    try {
      const client = await server.client();
      const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
      await client.end();
      expect(Math.floor(Number(rows[0]!.server_version_num) / 10_000)).toBe(major);
    } finally {
      await server.stop();
    }
  }, TIMEOUT);

  it('serves databases and login roles on loopback, and stop() removes everything', async () => {
    const lines: string[] = [];
    const server = await startThrowawayPostgres({ log: (line) => lines.push(line) });
    try {
      expect(server.host).toBe('127.0.0.1');
      expect(await portIsOpen(server.port)).toBe(true);
      expect(fs.existsSync(path.join(server.dataDir, 'PG_VERSION'))).toBe(true);

      const admin = await server.client();
      const settings = await admin.query<{ listen: string; sockets: string }>(
        "SELECT current_setting('listen_addresses') AS listen, current_setting('unix_socket_directories') AS sockets",
      );
      expect(settings.rows[0]).toEqual({ listen: '127.0.0.1', sockets: '' });

      await server.createDatabase('sandbox_app');
      const rolePassword = randomBytes(12).toString('hex');
      await admin.query(`CREATE ROLE app_user LOGIN PASSWORD ${admin.escapeLiteral(rolePassword)}`);

      const asRole = new pg.Client({ connectionString: server.url('sandbox_app', { user: 'app_user', password: rolePassword }) });
      await asRole.connect();
      const who = await asRole.query<{ user: string; db: string }>('SELECT current_user AS user, current_database() AS db');
      expect(who.rows[0]).toEqual({ user: 'app_user', db: 'sandbox_app' });
      await asRole.end();

      const wrongPassword = new pg.Client({ connectionString: server.url('sandbox_app', { user: 'app_user', password: 'wrong' }) });
      await expect(wrongPassword.connect()).rejects.toThrow(/password authentication failed/);

      // The superuser takes on the role's identity and privileges without its password.
      const current = async (): Promise<string | undefined> =>
        (await admin.query<{ user: string }>('SELECT current_user AS user')).rows[0]?.user;
      expect(await current()).toBe(server.superuser);
      await admin.query('SET SESSION AUTHORIZATION app_user');
      expect(await current()).toBe('app_user');
      await expect(admin.query('CREATE DATABASE not_allowed')).rejects.toThrow(/permission denied/);
      await admin.query('RESET SESSION AUTHORIZATION');
      expect(await current()).toBe(server.superuser);
      // `admin` stays open on purpose: stop() must end it.

      const pid = postmasterPid(server.dataDir);
      await server.stop();
      expect(fs.existsSync(server.dataDir)).toBe(false);
      expect(fs.existsSync(path.dirname(server.dataDir))).toBe(false);
      expect(await portIsOpen(server.port)).toBe(false);
      expect(processIsDead(pid)).toBe(true);
      await server.stop();

      expect(lines.some((line) => line.includes('ready to accept connections'))).toBe(true);
      expect(lines.some((line) => line.includes(server.password))).toBe(false);
      expect(server.url()).toContain(server.password);
    } finally {
      await server.stop();
    }
  }, TIMEOUT);

  it('runs two servers at once on different ports', async () => {
    const [a, b] = await Promise.all([startThrowawayPostgres(), startThrowawayPostgres()]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.dataDir).not.toBe(b.dataDir);
      await a.createDatabase('only_in_a');
      const databases = async (server: typeof a): Promise<string[]> => {
        const client = await server.client();
        const result = await client.query<{ datname: string }>('SELECT datname FROM pg_database');
        await client.end();
        return result.rows.map((row) => row.datname);
      };
      expect(await databases(a)).toContain('only_in_a');
      expect(await databases(b)).not.toContain('only_in_a');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(await portIsOpen(a.port)).toBe(false);
    expect(await portIsOpen(b.port)).toBe(false);
    expect(fs.existsSync(path.dirname(a.dataDir))).toBe(false);
    expect(fs.existsSync(path.dirname(b.dataDir))).toBe(false);
  }, TIMEOUT);

  // A child process starts a server and then dies without calling stop().
  const CHILD = `
    const { startThrowawayPostgres } = require(${JSON.stringify(SERVER_MODULE)});
    startThrowawayPostgres().then((server) => {
      process.stdout.write(JSON.stringify({ dataDir: server.dataDir, port: server.port }) + '\\n');
      if (process.argv[1] === 'exit') process.exit(0);
      if (process.argv[1] === 'throw') setImmediate(() => { throw new Error('boom'); });
      setInterval(() => undefined, 1000);
    });`;

  it.each(['SIGINT', 'SIGTERM', 'exit', 'throw'] as const)('cleans up when the process ends by %s', async (ending) => {
    const child = spawn(process.execPath, ['-r', path.join(REPO_ROOT, 'scripts/register.js'), '-e', CHILD, ending], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const started = await new Promise<{ dataDir: string; port: number }>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) resolve(JSON.parse(stdout) as { dataDir: string; port: number });
      });
      child.once('exit', () => reject(new Error(`child exited before the server started: ${stderr}`)));
    });

    const pid = postmasterPid(started.dataDir);
    if (ending === 'SIGINT' || ending === 'SIGTERM') child.kill(ending);
    await exited;

    expect(fs.existsSync(path.dirname(started.dataDir))).toBe(false);
    expect(await portIsOpen(started.port)).toBe(false);
    expect(processIsDead(pid)).toBe(true);
  }, TIMEOUT);
});
