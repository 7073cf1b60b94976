import { readFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { buildBoundary } from "../../../infra/boundary/build";
import type { Boundary } from "../../../infra/boundary/model";
import type { DeclaredResource } from "../../../infra/platforms/declare";
import { keyOf } from "../../../infra/platforms/resources";
import { postgresResources } from "../../../infra/platforms/postgres";
import { interpretPostgresAccess } from "../../../infra/platforms/postgres/interpret";
import { expectedPostgresAccess } from "./expected";
import { parseRoster } from "../../../infra/roster/load";
import { validRoster } from "../../support/arbitraries";
import { shuffled } from "../../support/shuffle";
import { REPO_ROOT, shippedBoundary, shippedSettings } from "../../support/shipped";

// What PostgreSQL would really be given, for any valid roster: exactly the boundary, under stable names.

const settings = { ...shippedSettings(), platforms: ["postgres" as const] };
const declare = (boundary: Boundary): DeclaredResource[] => postgresResources(boundary, settings);


/** Everything a URN and a diff depend on: type, name, inputs, and the options that protect data. */
const identity = (resources: DeclaredResource[]) =>
  resources
    .map((r) => JSON.stringify([r.type, r.name, r.inputs, r.parent?.name, r.protect, r.retainOnDelete, r.deleteBeforeReplace, r.dependsOn.map(keyOf).sort()]))
    .sort();

describe("PostgreSQL resources for random valid rosters", () => {
  it("read back to exactly the boundary, with unique names, protected prod schemas and every schema retained", async () => {
    await fc.assert(
      fc.asyncProperty(validRoster({ maxDevelopers: 4, maxDomains: 3, maxServiceAccounts: 2 }), async (roster) => {
        const boundary = buildBoundary(roster);
        const made = await declare(boundary);
        expect(interpretPostgresAccess(made)).toEqual(expectedPostgresAccess(boundary));
        const keys = made.map((r) => `${r.type}::${r.name}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (const schema of boundary.schemas) {
          const resource = made.find((r) => r.type === "postgresql:index/schema:Schema" && r.name === schema.name);
          expect(resource?.protect).toBe(schema.kind === "prod");
          expect(resource?.retainOnDelete).toBe(true);
        }
        const D = boundary.principals.filter((p) => p.kind === "developer").length;
        const M = boundary.schemas.filter((s) => s.kind === "prod").length;
        expect(made.length).toBeLessThanOrEqual(D * M + 5 * D + 8 * M + 20);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it("registers the identical resources when team.yaml is reordered", async () => {
    const file = parseYaml(readFileSync(path.join(REPO_ROOT, "team.yaml"), "utf8")) as object;
    const original = identity(await declare(shippedBoundary()));
    for (const seed of [3, 11]) {
      const result = parseRoster(JSON.stringify(shuffled(file, seed)), "shuffled.yaml");
      expect(result.problems).toBeUndefined();
      expect(identity(await declare(buildBoundary(result.roster!)))).toEqual(original);
    }
  });
});
