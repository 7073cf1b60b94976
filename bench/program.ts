import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as snowflake from "@pulumi/snowflake";
import { buildBoundary } from "../infra/boundary/build";
import { declareResources, type DeclaredResource } from "../infra/platforms/declare";
import { declareUnderMocks } from "../infra/pulumi/mocks";
import { registerResources } from "../infra/pulumi/register";
import type { Platform, StackSettings } from "../infra/stack";
import { syntheticRoster } from "./rosters";

// `npm run bench` (program part): the Pulumi program under mocks per platform, beside the SDK's own floor — the same
// provider resources with the same plain inputs, registered flat with no logic of ours — each in a fresh process.

const SIZES = [
  { developers: 100, domains: 20 },
  { developers: 500, domains: 20 },
] as const;
const PLATFORMS: Platform[] = ["postgres", "snowflake"];
const RATIO_TARGET = 1.25;

const budget: Record<Platform, (d: number, m: number) => number> = {
  postgres: (d, m) => d * m + 5 * d + 8 * m + 20,
  snowflake: (d, m) => 2 * d * m + 5 * d + 10 * m + 20,
};

interface Run {
  resources: number;
  /** Wall time. */
  ms: number;
  /** CPU time (user + system): steadier than wall time on a shared machine. */
  cpuMs: number;
  peakRssMb: number;
}

/** Times `work` in wall and CPU milliseconds, with the process's peak RSS afterwards. */
async function measured(work: () => Promise<readonly unknown[]>): Promise<Run> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const declared = await work();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { resources: declared.length, ms, cpuMs: (used.user + used.system) / 1000, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
}

const settingsFor = (platform: Platform): StackSettings => ({
  roster: "synthetic",
  platforms: [platform],
  database: "analytics",
  postgres: { developerStatementTimeoutMs: 300_000, developerConnectionLimit: 5, loginAuthentication: { method: "password" } },
  snowflake: { warehouses: { developers: "DEV_WH", ci: "CI_WH", prod: "PROD_WH" }, adminRole: "SYSADMIN", policySchema: "GOVERNANCE" },
});

type ResourceClass = new (name: string, args: never, opts: pulumi.CustomResourceOptions) => pulumi.Resource;

/** The provider SDK's own class for a type token (its output properties are part of the SDK's cost), or a bare component. */
function bareResource(type: string, name: string, inputs: Record<string, unknown>, parent: pulumi.Resource): pulumi.Resource {
  const [pkg, , className] = type.split(":");
  const providerModule = pkg === "postgresql" ? postgresql : pkg === "snowflake" ? snowflake : undefined;
  const resourceClass = (providerModule as Record<string, unknown> | undefined)?.[className ?? ""] as ResourceClass | undefined;
  return resourceClass
    ? new resourceClass(name, inputs as never, { parent })
    : new pulumi.ComponentResource(type, name, {}, { parent });
}

const plainInputs = (inputs: Record<string, unknown>): Record<string, unknown> => JSON.parse(JSON.stringify(inputs)) as Record<string, unknown>;

async function child(mode: "program" | "floor", platform: Platform, developers: number, domains: number): Promise<Run> {
  const boundary = buildBoundary(syntheticRoster(developers, domains));
  const settings = settingsFor(platform);
  // The program: the declared list, registered by the Pulumi layer.
  if (mode === "program") return measured(() => declareUnderMocks((opts) => void registerResources(declareResources(boundary, settings), opts)));
  // The floor's inputs come from a program run in this process's parent; here they are rebuilt without timing.
  const shapes: Pick<DeclaredResource, "type" | "inputs">[] = JSON.parse(readFileSync(process.env.BENCH_SHAPES_FILE!, "utf8"));
  return measured(() => declareUnderMocks((opts) => {
    const root = new pulumi.ComponentResource("bench:index:Root", "root", {}, opts);
    shapes.forEach((shape, i) => bareResource(shape.type, `r${i}`, plainInputs(shape.inputs), root));
  }));
}

/** The program and its floor load through ts-node, as `pulumi up` loads the program (the CLIs use sucrase). */
function inChild(mode: "program" | "floor", platform: Platform, developers: number, domains: number, env: Record<string, string> = {}): Run {
  const result = spawnSync(process.execPath, ["--max-old-space-size=8192", "-r", "ts-node/register/transpile-only", __filename, "--child", mode, platform, String(developers), String(domains)], {
    encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env },
  });
  // The SDK's exit hook may flag still-pending promises and set exit code 1 after the figures are written; the figures stand.
  const figures = result.stdout.trim().split("\n").at(-1);
  if (!figures?.startsWith("{")) throw new Error(`bench child ${mode} ${platform} ${developers}×${domains} failed:\n${result.stderr}`);
  return JSON.parse(figures) as Run;
}

/** The resource types and plain inputs the program registers, for the floor to register again without our logic. */
async function shapesOf(platform: Platform, developers: number, domains: number): Promise<string> {
  const declared = declareResources(buildBoundary(syntheticRoster(developers, domains)), settingsFor(platform));
  // One fewer than declared: the floor's own root component stands in for our top-level component.
  return JSON.stringify(declared.slice(1).map((r) => ({ type: r.type, inputs: r.inputs })));
}

async function main(): Promise<void> {
  const [flag, mode, platform, developers, domains] = process.argv.slice(2);
  if (flag === "--child") {
    // A pipe would be cut short by process.exit, so the shapes go through a file.
    if (mode === "shapes") writeFileSync(process.env.BENCH_SHAPES_FILE!, await shapesOf(platform as Platform, Number(developers), Number(domains)));
    else process.stdout.write(`${JSON.stringify(await child(mode as "program" | "floor", platform as Platform, Number(developers), Number(domains)))}\n`);
    process.exit(0);
  }
  console.log(`warehouse-access program bench: node ${process.version}, @pulumi/pulumi ${require("@pulumi/pulumi/package.json").version}, mocks; each run a fresh process`);
  console.log(`${"roster".padEnd(8)} ${"platform".padEnd(10)} ${"resources".padStart(9)} ${"budget".padStart(7)}   ${"wall: program".padStart(13)} ${"floor".padStart(8)} ${"ratio".padStart(5)}   ${"CPU: program".padStart(12)} ${"floor".padStart(8)} ${"ratio".padStart(5)}   peak RSS program / floor`);
  const scratch = mkdtempSync(path.join(tmpdir(), "warehouse-access-bench-"));
  let missed = false;
  for (const { developers, domains } of SIZES)
    for (const platform of PLATFORMS) {
      const program = inChild("program", platform, developers, domains);
      const shapesFile = path.join(scratch, `${platform}-${developers}x${domains}.json`);
      spawnSync(process.execPath, ["--max-old-space-size=8192", "-r", "ts-node/register/transpile-only", __filename, "--child", "shapes", platform, String(developers), String(domains)], {
        env: { ...process.env, BENCH_SHAPES_FILE: shapesFile },
      });
      const floor = inChild("floor", platform, developers, domains, { BENCH_SHAPES_FILE: shapesFile });
      const allowed = budget[platform](developers, domains);
      const ratio = program.ms / floor.ms;
      const cpuRatio = program.cpuMs / floor.cpuMs;
      // On a shared machine wall time swings with the load; CPU time is what our logic adds, so the target is judged on it.
      missed ||= program.resources > allowed || cpuRatio > RATIO_TARGET;
      const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      console.log(`${`${developers}×${domains}`.padEnd(8)} ${platform.padEnd(10)} ${String(program.resources).padStart(9)} ${String(allowed).padStart(7)}   ${seconds(program.ms).padStart(13)} ${seconds(floor.ms).padStart(8)} ${ratio.toFixed(2).padStart(5)}   ${seconds(program.cpuMs).padStart(12)} ${seconds(floor.cpuMs).padStart(8)} ${cpuRatio.toFixed(2).padStart(5)}   ${program.peakRssMb} MB / ${floor.peakRssMb} MB`);
    }
  console.log(`targets: resources within budget (PostgreSQL D·M + 5·D + 8·M + 20, Snowflake 2·D·M + 5·D + 10·M + 20); program CPU within ${RATIO_TARGET}× the SDK floor's: ${missed ? "MISSED" : "met"}`);
  rmSync(scratch, { recursive: true, force: true });
  process.exit(missed ? 1 : 0);
}

void main();
