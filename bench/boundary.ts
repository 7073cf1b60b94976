import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { declaredWriters } from "../infra/audit/declared";
import { accessPaths } from "../infra/boundary/access";
import { buildBoundary } from "../infra/boundary/build";
import { checkBoundary } from "../infra/boundary/rules";
import { renderAudit, auditReport } from "../infra/report/audit";
import { planReport } from "../infra/report/plan";
import { renderPlan } from "../infra/report/plan-text";
import { parseRoster } from "../infra/roster/load";
import { rosterYaml, syntheticRoster } from "./rosters";

// `npm run bench`: how long a large roster takes and how much memory it needs, each size and phase in a fresh process
// so one measurement's heap never inflates the next one's peak.

const SIZES = [
  { developers: 100, domains: 20 },
  { developers: 1_000, domains: 50 },
] as const;
const TARGET = { developers: 1_000, domains: 50, ms: 1_000, mb: 300 };
const WARM_RUNS = 5;

type Phase = "parse" | "boundary";

interface Measurement {
  phase: Phase;
  developers: number;
  domains: number;
  /** First run in a fresh process, as a CLI invocation pays it. */
  coldMs: Record<string, number>;
  /** Median of the following runs. */
  warmMs: number;
  startRssMb: number;
  peakRssMb: number;
  counts: string;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);

function timed<T>(run: () => T): [T, number] {
  const start = performance.now();
  const result = run();
  return [result, performance.now() - start];
}

function measure(phase: Phase, developers: number, domains: number): Measurement {
  const roster = syntheticRoster(developers, domains);
  const text = phase === "parse" ? rosterYaml(roster) : "";
  const startRssMb = mb(process.memoryUsage().rss);
  const coldMs: Record<string, number> = {};
  const warm: number[] = [];
  let counts = "";
  let peakRssMb = 0;

  if (phase === "parse") {
    for (let run = 0; run <= WARM_RUNS; run++) {
      const [result, ms] = timed(() => parseRoster(text, "synthetic.yaml"));
      if (result.problems) throw new Error(`synthetic roster is invalid: ${JSON.stringify(result.problems.slice(0, 3))}`);
      if (run > 0) warm.push(ms);
      else {
        peakRssMb = mb(process.resourceUsage().maxRSS * 1024);
        coldMs["parse + validate"] = ms;
        counts = `${Math.round(text.length / 1024)} KB of YAML`;
      }
    }
  } else {
    for (let run = 0; run <= WARM_RUNS; run++) {
      const [boundary, build] = timed(() => buildBoundary(roster));
      const [violations, check] = timed(() => checkBoundary(boundary));
      const [paths, access] = timed(() => accessPaths(boundary));
      if (violations.length > 0) throw new Error(`synthetic boundary violates ${violations[0]?.rule}: ${violations[0]?.message}`);
      if (run > 0) warm.push(build + check + access);
      else {
        // The peak of the first run alone: later runs' garbage would inflate it.
        peakRssMb = mb(process.resourceUsage().maxRSS * 1024);
        Object.assign(coldMs, { build, check, "access paths": access });
        counts = `${boundary.schemas.length} schemas, ${boundary.grants.length} grants, ${boundary.memberships.length} memberships, ${paths.length} access paths`;
        const [, reports] = timed(() => {
          renderPlan(planReport(boundary, violations, { stackConfig: "(not declared in this phase)", byType: [], totals: {} }));
          renderAudit(auditReport(declaredWriters(boundary), violations));
        });
        coldMs["reports (not in target)"] = reports;
      }
    }
  }
  return { phase, developers, domains, coldMs, warmMs: median(warm), startRssMb, peakRssMb, counts };
}

function inChild(phase: Phase, developers: number, domains: number): Measurement {
  const child = spawnSync(
    process.execPath,
    ["-r", path.join(__dirname, "../scripts/register.js"), __filename, "--child", phase, String(developers), String(domains)],
    { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
  );
  if (child.status !== 0) throw new Error(`bench child ${phase} ${developers}×${domains} failed:\n${child.stderr}`);
  return JSON.parse(child.stdout) as Measurement;
}

const fixed = (ms: number): string => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;

function main(): void {
  const [flag, phase, developers, domains] = process.argv.slice(2);
  if (flag === "--child") {
    process.stdout.write(JSON.stringify(measure(phase as Phase, Number(developers), Number(domains))));
    return;
  }
  console.log(`warehouse-access bench: node ${process.version}; each row is a fresh process; cold = first run, warm = median of the next ${WARM_RUNS}`);
  console.log("");
  const results: Measurement[] = [];
  for (const size of SIZES)
    for (const p of ["parse", "boundary"] as const) {
      const m = inChild(p, size.developers, size.domains);
      results.push(m);
      const total = Object.entries(m.coldMs).filter(([k]) => !k.includes("not in target")).reduce((sum, [, ms]) => sum + ms, 0);
      const parts = Object.entries(m.coldMs).map(([k, ms]) => `${k} ${fixed(ms)}`).join(", ");
      console.log(`${`${size.developers}×${size.domains}`.padEnd(8)} ${(p === "parse" ? "parse + validate YAML" : "build + check + paths").padEnd(22)} cold ${fixed(total).padStart(8)}   warm ${fixed(m.warmMs).padStart(8)}   peak RSS ${String(m.peakRssMb).padStart(4)} MB (${m.startRssMb} MB before the first run: node, sucrase, input)`);
      console.log(`${"".padEnd(31)} ${parts}`);
      console.log(`${"".padEnd(31)} ${m.counts}`);
    }
  const target = results.find((m) => m.phase === "boundary" && m.developers === TARGET.developers && m.domains === TARGET.domains);
  if (target) {
    const cold = (target.coldMs.build ?? 0) + (target.coldMs.check ?? 0) + (target.coldMs["access paths"] ?? 0);
    const met = cold < TARGET.ms && target.peakRssMb < TARGET.mb;
    console.log("");
    console.log(`target ${TARGET.developers}×${TARGET.domains} build + check + paths under ${TARGET.ms} ms and ${TARGET.mb} MB: ${met ? "met" : "MISSED"} (${fixed(cold)} cold, ${target.peakRssMb} MB peak RSS)`);
    if (!met) process.exitCode = 1;
  }
}

main();
