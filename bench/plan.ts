import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { buildBoundary } from "../infra/boundary/build";
import { declareResources } from "../infra/platforms/declare";
import { loadStackSettings } from "../infra/stack";
import { rosterYaml, syntheticRoster } from "./rosters";

// `npm run bench` (plan part): `plan` as `npm run plan` runs it (node, sucrase, a roster file, the shipped stack config
// with both platforms), and the resource list alone, each run a fresh process; a row's figure is the median of its runs.

const ROOT = path.resolve(__dirname, "..");
const RUNS = 5;
const PLAN_TARGETS = [
  { developers: 100, domains: 20, ms: 1_000, mb: 400 },
  { developers: 1_000, domains: 50, ms: 2_000, mb: 400 },
] as const;
const LIST_TARGET = { developers: 1_000, domains: 50, ms: 300 };

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

interface ChildFigures {
  /** Peak RSS of the whole process, in MB. */
  peakRssMb: number;
  /** CPU time (user + system) of the whole process: steadier than wall time on a shared machine, shown beside it. */
  cpuMs: number;
}

/** Runs `args` in a fresh node loading TypeScript as the package scripts do; wall time around it, figures from inside it. */
function fresh(args: readonly string[], figuresFile: string): { wallMs: number; figures: ChildFigures; stdout: string } {
  rmSync(figuresFile, { force: true });
  const start = performance.now();
  const child = spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts/register.js"), "-r", path.join(__dirname, "peak-rss.ts"), ...args], {
    cwd: ROOT, encoding: "utf8", maxBuffer: 512 * 1024 * 1024, env: { ...process.env, BENCH_FIGURES_FILE: figuresFile },
  });
  const wallMs = performance.now() - start;
  if (child.status !== 0) throw new Error(`bench: ${args.join(" ")} exited ${child.status}:\n${child.stderr}`);
  return { wallMs, figures: JSON.parse(readFileSync(figuresFile, "utf8")) as ChildFigures, stdout: child.stdout };
}

/** Child mode: the resource list for a synthetic roster, timed alone (the roster and boundary are built first, untimed). */
function listChild(developers: number, domains: number): void {
  const boundary = buildBoundary(syntheticRoster(developers, domains));
  const settings = loadStackSettings(path.join(ROOT, "Pulumi.prod.yaml"));
  const start = performance.now();
  const resources = declareResources(boundary, settings);
  const ms = performance.now() - start;
  writeFileSync(`${process.env.BENCH_FIGURES_FILE!}.step`, JSON.stringify({ ms, resources: resources.length }));
}

function main(): void {
  const [flag, developers, domains] = process.argv.slice(2);
  if (flag === "--list") return listChild(Number(developers), Number(domains));

  const scratch = mkdtempSync(path.join(tmpdir(), "warehouse-access-bench-plan-"));
  const figuresFile = path.join(scratch, "figures.json");
  let missed = false;
  console.log(`warehouse-access plan bench: node ${process.version}; ${RUNS} fresh processes per row, median wall time, CPU time and peak RSS; both platforms (Pulumi.prod.yaml); targets judged on wall time`);
  for (const target of PLAN_TARGETS) {
    const roster = path.join(scratch, `team-${target.developers}x${target.domains}.yaml`);
    writeFileSync(roster, rosterYaml(syntheticRoster(target.developers, target.domains)));
    const runs = Array.from({ length: RUNS }, () => fresh([path.join(ROOT, "infra/cli/plan.ts"), "--roster", roster, "--stack-config", path.join(ROOT, "Pulumi.prod.yaml")], figuresFile));
    const resources = /^\s+postgres\s+total\s+(\d+)$/m.exec(runs[0]!.stdout)?.[1];
    const snowflake = /^\s+snowflake\s+total\s+(\d+)$/m.exec(runs[0]!.stdout)?.[1];
    const wall = median(runs.map((r) => r.wallMs));
    const rss = median(runs.map((r) => r.figures.peakRssMb));
    const cpu = median(runs.map((r) => r.figures.cpuMs));
    const met = wall < target.ms && rss < target.mb;
    missed ||= !met;
    console.log(`plan ${`${target.developers}×${target.domains}`.padEnd(8)} ${`${Number(resources) + Number(snowflake)} resources`.padEnd(18)} wall ${`${(wall / 1000).toFixed(2)} s`.padStart(7)} (runs ${runs.map((r) => (r.wallMs / 1000).toFixed(2)).join(" ")})   CPU ${`${(cpu / 1000).toFixed(2)} s`.padStart(7)}   peak RSS ${String(rss).padStart(4)} MB   target < ${target.ms / 1000} s and ${target.mb} MB: ${met ? "met" : "MISSED"}`);
  }
  const lists = Array.from({ length: RUNS }, () => {
    fresh([__filename, "--list", String(LIST_TARGET.developers), String(LIST_TARGET.domains)], figuresFile);
    return JSON.parse(readFileSync(`${figuresFile}.step`, "utf8")) as { ms: number; resources: number };
  });
  const listMs = median(lists.map((l) => l.ms));
  const listMet = listMs < LIST_TARGET.ms;
  missed ||= !listMet;
  console.log(`list ${`${LIST_TARGET.developers}×${LIST_TARGET.domains}`.padEnd(8)} ${`${lists[0]!.resources} resources`.padEnd(18)} declareResources ${`${listMs.toFixed(0)} ms`.padStart(7)} (runs ${lists.map((l) => l.ms.toFixed(0)).join(" ")})   target < ${LIST_TARGET.ms} ms: ${listMet ? "met" : "MISSED"}`);
  rmSync(scratch, { recursive: true, force: true });
  process.exitCode = missed ? 1 : 0;
}

main();
