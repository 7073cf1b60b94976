import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { postgresResources } from "../../infra/platforms/postgres";
import { defaultParallel } from "../../infra/sandbox/engine";
import { startCommand } from "../support/commands";
import { REPO_ROOT, shippedBoundary, shippedSettings } from "../support/shipped";

// `npm run sandbox` as people run it: a child process that starts its own server, reports, and cleans up.

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const TIMEOUT = 120_000;

/** The lines of the README's code block after `<!-- marker`, as pasted from a real run (its `$` command line left out). */
function readmeBlock(marker: string): string[] {
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const after = readme.slice(readme.indexOf(`<!-- ${marker}`));
  const start = after.indexOf("```\n") + 4;
  return after.slice(start, after.indexOf("\n```", start)).split("\n").filter((l) => !l.startsWith("$ ") && l !== "...");
}

function finished(child: ChildProcess): Promise<Run> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const npm = (...args: string[]) => finished(spawn("npm", ["run", "--silent", "sandbox", "--", ...args], { cwd: REPO_ROOT, env: { ...process.env, CI: "true" } }));

describe("npm run sandbox", () => {
  it("applies, attacks and audits the shipped roster, prints JSON, exits 0, and removes its data directory", async () => {
    const run = await npm("--json");
    const report = JSON.parse(run.stdout) as {
      ok: boolean; server: { dataDir: string; port: number; database: string };
      provider: { username: string; database: string };
      attacks: { attempts: unknown[]; unexpected: unknown[] };
      liveAudit: { drift: number; schemas: unknown[] };
      notes: string[];
    };
    expect(report.attacks.attempts).toHaveLength(2016);
    expect(report.attacks.unexpected).toEqual([]);
    expect(report.liveAudit.drift).toBe(0);
    expect(report.liveAudit.schemas).toHaveLength(4);
    // The provider connects as Pulumi.prod.yaml says: its user, to the warehouse database.
    expect(report.provider).toEqual({ username: "provisioner", database: "analytics", maxConnections: 20 });
    // pulumi up at its default parallelism, then a second up and an up --refresh that find nothing to change.
    const { applied, secondUp, refresh } = report as unknown as Record<string, { summary: string; changes: string[]; parallel?: number }>;
    expect(applied!.parallel).toBe(defaultParallel());
    expect(applied!.changes.filter((c) => /^(FAILED|SKIPPED)/.test(c))).toEqual([]);
    const providerResources = postgresResources(shippedBoundary(), shippedSettings()).filter((r) => r.custom).length;
    expect([secondUp!.summary, refresh!.summary]).toEqual([`no changes (${providerResources} unchanged)`, `no changes (${providerResources} unchanged)`]);
    expect(report.server.database).toBe("analytics");
    expect(report.notes).toEqual([]);
    expect(report.ok).toBe(true);
    expect(run.code).toBe(0);
    expect(fs.existsSync(path.dirname(report.server.dataDir))).toBe(false);
  }, TIMEOUT);

  it("explains itself with --help and exits 2 on a roster that does not exist", async () => {
    const help = await npm("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--keep/);
    expect(help.stdout).toMatch(/--roster <path>/);
    expect(help.stdout).toMatch(/--pg-version <major>.*14, 15, 16, 17, 18/);
    expect(help.stdout).toMatch(/--parallel <n>/);
    const badMajor = await npm("--pg-version", "13");
    expect(badMajor.code).toBe(2);
    expect(badMajor.stderr).toMatch(/--pg-version.*one of 14, 15, 16, 17, 18/);
    const missing = await npm("--roster", "no-such-roster.yaml");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such-roster\.yaml.*does not exist/);
  }, TIMEOUT);

  it("with --keep, serves one login per principal until Ctrl-C, then removes everything; its first lines are the README's", async () => {
    const child = startCommand("sandbox", ["--keep", "--pg-version", "15", "--parallel", "1"]);
    const done = finished(child);
    let stdout = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    const up = new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (d: Buffer) => d.toString().includes("Sandbox is up") && resolve());
      child.on("close", () => reject(new Error(`exited before it was up:\n${stdout}`)));
    });
    try {
      await up;
      const urls = [...stdout.matchAll(/^\s+(\S+)\s+psql (postgresql:\/\/\S+)$/gm)].map((m) => ({ principal: m[1]!, url: m[2]! }));
      expect(urls.map((u) => u.principal)).toEqual(["alice", "bob", "carol", "dave", "erin", "svc_ci", "svc_prod", "PUBLIC"]);
      const dataDir = /data in (\S+), removed on exit/.exec(stdout)![1]!;
      // Only the port, the data directory, the statement count and the seconds differ from run to run.
      const masked = (line: string) => line.replace(/127\.0\.0\.1:\d+/, "127.0.0.1:PORT").replace(/data in \S+,/, "data in DIR,").replace(/\d+ statements/, "N statements").replace(/\d+\.\d\d s/g, "S s");
      const lines = stdout.split("\n").map(masked);
      for (const line of readmeBlock("sandbox-up")) expect(lines).toContain(masked(line));
      expect(fs.existsSync(dataDir)).toBe(true);

      const alice = new pg.Client({ connectionString: urls.find((u) => u.principal === "alice")!.url });
      await alice.connect();
      try {
        expect((await alice.query("SELECT count(*)::int AS n FROM prod_sales.sample")).rows[0]).toEqual({ n: 1 });
        await expect(alice.query("INSERT INTO prod_sales.sample VALUES (2)")).rejects.toMatchObject({ code: "42501" });
      } finally {
        await alice.end();
      }

      child.kill("SIGINT");
      const run = await done;
      expect(run.code).toBe(0);
      expect(fs.existsSync(path.dirname(dataDir))).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, TIMEOUT);
});
