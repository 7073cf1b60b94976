import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCommand } from "../support/commands";
import { REPO_ROOT } from "../support/shipped";
import { writeTinyRoster } from "./support";

// `npm run sandbox -- --keep` stopped the ways people stop it: it says its PID, and whatever ends it — a signal to npm,
// to node, or npm killed outright — leaves no server process and no data directory behind.

const TIMEOUT = 120_000;
/** How long a stopped sandbox may take to be gone; about a second when the machine is quiet. */
const GONE_WITHIN_MS = 10_000;

const rosterDir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-lifetime-"));
const TINY_ROSTER = writeTinyRoster(rosterDir);
afterAll(() => fs.rmSync(rosterDir, { recursive: true, force: true }));

interface Kept {
  child: ChildProcess;
  /** The PID the sandbox says is its own. */
  pid: number;
  dataDir: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts a --keep sandbox and waits until it is up. */
async function keep(child: ChildProcess): Promise<Kept> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("Sandbox is up")) resolve();
    });
    void exited.then(() => reject(new Error(`exited before it was up:\n${stderr}`)));
  });
  const first = stderr.split("\n")[0]!;
  const said = /^sandbox pid (\d+); stop with kill (\d+) or Ctrl-C$/.exec(first);
  expect(said, first).not.toBeNull();
  expect(said![2]).toBe(said![1]);
  return { child, pid: Number(said![1]), dataDir: /data in (\S+), removed on exit/.exec(stdout)![1]!, stderr: () => stderr, exited };
}

const npmKeep = () => spawn("npm", ["run", "--silent", "sandbox", "--", "--keep", "--roster", TINY_ROSTER], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });

/** True when the process is gone or a zombie waiting to be reaped. */
function isDead(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? true;
  } catch {
    return true;
  }
}

/** Live processes started with `-D dataDir`: the postmaster and nothing else, while the server runs. */
function serverProcesses(dataDir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.some((arg, i) => arg === "-D" && argv[i + 1] === dataDir) && !isDead(Number(entry))) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Waits until the sandbox process, its server and its data are all gone; returns how long that took. */
async function gone(kept: Kept): Promise<number> {
  const since = Date.now();
  const done = () => isDead(kept.pid) && serverProcesses(kept.dataDir).length === 0 && !fs.existsSync(path.dirname(kept.dataDir));
  while (!done() && Date.now() - since < GONE_WITHIN_MS) await new Promise((resolve) => setTimeout(resolve, 50));
  return Date.now() - since;
}

function assertGone(kept: Kept, ms: number): void {
  expect({ sandbox: isDead(kept.pid), servers: serverProcesses(kept.dataDir), dataDir: fs.existsSync(path.dirname(kept.dataDir)) }, kept.stderr())
    .toEqual({ sandbox: true, servers: [], dataDir: false });
  expect(ms).toBeLessThan(GONE_WITHIN_MS);
}

describe.concurrent("npm run sandbox -- --keep", () => {
  it("says its PID, and SIGTERM to npm stops node and the server and removes the data directory", async () => {
    const kept = await keep(npmKeep());
    try {
      expect(kept.pid).not.toBe(kept.child.pid);
      expect(serverProcesses(kept.dataDir)).toHaveLength(1);
      kept.child.kill("SIGTERM");
      assertGone(kept, await gone(kept));
      expect(kept.stderr()).toMatch(/the process that started it is gone: stopping the server and removing its data/);
    } finally {
      if (!isDead(kept.pid)) process.kill(kept.pid, "SIGTERM");
    }
  }, TIMEOUT);

  it("stops the same way when npm is killed outright (SIGKILL), leaving node and npm's shell behind", async () => {
    const kept = await keep(npmKeep());
    try {
      kept.child.kill("SIGKILL");
      assertGone(kept, await gone(kept));
    } finally {
      if (!isDead(kept.pid)) process.kill(kept.pid, "SIGTERM");
    }
  }, TIMEOUT);

  it("run directly, stops on SIGHUP (its terminal closed) and exits with the verdict's code", async () => {
    const kept = await keep(startCommand("sandbox", ["--keep", "--roster", TINY_ROSTER]));
    try {
      expect(kept.pid).toBe(kept.child.pid);
      kept.child.kill("SIGHUP");
      assertGone(kept, await gone(kept));
      expect(await kept.exited).toBe(0);
      expect(kept.stderr()).toMatch(/SIGHUP: stopping the server and removing its data/);
    } finally {
      if (!isDead(kept.pid)) process.kill(kept.pid, "SIGTERM");
    }
  }, TIMEOUT);
});
