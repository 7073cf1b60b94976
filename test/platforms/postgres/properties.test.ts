import { readFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { accessPaths } from "../../../infra/boundary/access";
import { buildBoundary } from "../../../infra/boundary/build";
import type { Boundary } from "../../../infra/boundary/model";
import { declareUnderMocks, type DeclaredResource } from "../../../infra/platforms/declare";
import { PostgresAccess } from "../../../infra/platforms/postgres";
import { interpretPostgresAccess, type LoginAccess } from "../../../infra/platforms/postgres/interpret";
import { parseRoster } from "../../../infra/roster/load";
import { validRoster } from "../../support/arbitraries";
import { shuffled } from "../../support/shuffle";
import { REPO_ROOT, shippedBoundary, shippedSettings } from "../../support/shipped";

// What PostgreSQL would really be given, for any valid roster: exactly the boundary, under stable names.

const settings = { ...shippedSettings(), platforms: ["postgres" as const] };
const declare = (boundary: Boundary) => declareUnderMocks((opts) => void new PostgresAccess("postgres", { boundary, settings }, opts));

/** The boundary's access as the interpreter reports it: login role, schema, strongest access. */
function expectedAccess(boundary: Boundary): LoginAccess[] {
  const loginOf = new Map(boundary.principals.map((p) => [p.name, p.logins.postgres]));
  const levels = new Map<string, LoginAccess>();
  for (const path of accessPaths(boundary)) {
    const login = loginOf.get(path.principal)!;
    const key = `${login}/${path.schema}`;
    if (levels.get(key)?.access !== "write") levels.set(key, { login, schema: path.schema, access: path.access });
  }
  return [...levels.values()].sort((a, b) => `${a.login}/${a.schema}`.localeCompare(`${b.login}/${b.schema}`));
}

/** Everything a URN and a diff depend on: type, name, inputs, and the options that protect data. */
const identity = (resources: DeclaredResource[]) =>
  resources
    .map((r) => JSON.stringify([r.type, r.name, r.inputs, r.parent, r.protect, r.retainOnDelete, r.deleteBeforeReplace, [...r.dependsOn].sort()]))
    .sort();

describe("PostgreSQL resources for random valid rosters", () => {
  it("read back to exactly the boundary, with unique names, protected prod schemas and every schema retained", async () => {
    await fc.assert(
      fc.asyncProperty(validRoster({ maxDevelopers: 4, maxDomains: 3, maxServiceAccounts: 2 }), async (roster) => {
        const boundary = buildBoundary(roster);
        const made = await declare(boundary);
        expect(interpretPostgresAccess(made)).toEqual(expectedAccess(boundary));
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
