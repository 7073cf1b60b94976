import { loadavg } from "node:os";
import { buildBoundary } from "../infra/boundary/build";
import { declareResources } from "../infra/platforms/declare";
import { loadRoster } from "../infra/roster/load";
import type { Roster } from "../infra/roster/types";
import { changesNothing, defaultParallel } from "../infra/sandbox/engine";
import type { PostgresMajor } from "../infra/sandbox/server";
import { providerConnection, Sandbox } from "../infra/sandbox/setup";
import { loadStackSettings } from "../infra/stack";
import { syntheticRoster } from "./rosters";

// `npm run bench:sandbox`: the sandbox's first `pulumi up` (a fresh server each run) for the shipped roster and for
// 100 developers × 20 domains, one operation at a time, at `pulumi up`'s default parallelism and unbounded, on 15 and 18;
// with the failures and the changes a second up and an up --refresh found (expected: none). Figures, not targets.

const RUNS = Number(process.env.BENCH_SANDBOX_RUNS ?? 3);
const MAJORS: PostgresMajor[] = [15, 18];
const PARALLELISM = [1, defaultParallel(), Number.POSITIVE_INFINITY];

const settings = { ...loadStackSettings("Pulumi.prod.yaml"), platforms: ["postgres" as const] };
const provider = providerConnection("Pulumi.prod.yaml");
const rosters: [string, Roster][] = [["shipped 5 × 4", loadRoster("team.yaml")], ["100 × 20", syntheticRoster(100, 20)]];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  console.log(`sandbox pulumi up, median of ${RUNS} fresh servers per row (load ${loadavg()[0]!.toFixed(1)})`);
  console.log("roster          resources  PG  parallel    first up   failures  changes on 2nd up / refresh");
  for (const [label, roster] of rosters) {
    const resources = declareResources(buildBoundary(roster), settings);
    for (const major of MAJORS)
      for (const parallel of PARALLELISM) {
        const times: number[] = [];
        let failures = 0;
        let changes = 0;
        for (let run = 0; run < RUNS; run++) {
          const sandbox = await Sandbox.start(settings.database, provider, undefined, major);
          try {
            const first = await sandbox.up(resources, { parallel, allowFailure: true });
            times.push(first.ms);
            failures += first.steps.filter((s) => s.status === "failed").length;
            for (const next of [await sandbox.up(resources, { parallel, allowFailure: true }), await sandbox.up(resources, { parallel, refresh: true, allowFailure: true })])
              if (!changesNothing(next.steps)) changes += next.steps.filter((s) => s.operation !== "same").length;
          } finally {
            await sandbox.stop();
          }
        }
        const count = resources.filter((r) => r.custom).length;
        console.log(
          `${label.padEnd(15)} ${String(count).padStart(9)}  ${major}  ${(parallel === Number.POSITIVE_INFINITY ? "unbounded" : String(parallel)).padEnd(9)} ` +
            `${(median(times) / 1000).toFixed(2).padStart(7)} s  ${String(failures).padStart(8)}  ${changes}`,
        );
      }
  }
}

main().catch((error: unknown) => {
  console.error(`bench:sandbox: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
