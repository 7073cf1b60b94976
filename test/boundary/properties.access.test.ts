import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accessPaths, type AccessPath } from "../../infra/boundary/access";
import { buildBoundary } from "../../infra/boundary/build";
import { checkBoundary } from "../../infra/boundary/rules";
import { PROD_WRITER } from "../../infra/roster/naming";
import type { Roster } from "../../infra/roster/types";
import { validRoster } from "../support/arbitraries";

// The deny rules D1–D5, and who can do what, over random valid rosters: the builder never declares a violation,
// and the effective access (memberships followed to grants and ownership) is exactly what the roster says.

const RUNS = { numRuns: 500 };
const rosters = validRoster();

const sorted = (values: Iterable<string>) => [...values].sort();
const distinct = (values: Iterable<string>) => sorted(new Set(values));
const principalsOf = (paths: AccessPath[]) => distinct(paths.map((p) => p.principal));
const prodAccounts = (roster: Roster) => roster.serviceAccounts.filter((a) => a.purpose === "prod").map((a) => a.name);

describe("for every valid roster", () => {
  it("the built boundary breaks no deny rule", () => {
    fc.assert(
      fc.property(rosters, (roster) => {
        expect(checkBoundary(buildBoundary(roster))).toEqual([]);
      }),
      RUNS,
    );
  });

  it("every developer can write exactly their own schemas, and no prod schema", () => {
    fc.assert(
      fc.property(rosters, (roster) => {
        const b = buildBoundary(roster);
        const paths = accessPaths(b);
        const writes = (dev: string) => distinct(paths.filter((p) => p.principal === dev && p.access === "write").map((p) => p.schema));
        expect(roster.developers.map((dev) => [dev.name, writes(dev.name)])).toEqual(
          roster.developers.map((dev) => [dev.name, distinct(dev.domains.map((domain) => `${dev.name}_${domain}`))]),
        );
        expect(roster.developers.map((dev) => [dev.name, writes(dev.name)])).toEqual(
          roster.developers.map((dev) => [dev.name, b.schemas.filter((s) => s.developer === dev.name).map((s) => s.name)]),
        );
      }),
      RUNS,
    );
  });

  it("only the purpose: prod service accounts write prod schemas, each of them every prod schema, through prod_writer", () => {
    fc.assert(
      fc.property(rosters, (roster) => {
        const paths = accessPaths(buildBoundary(roster));
        const prodWrites = paths.filter((p) => p.access === "write" && p.schema.startsWith("prod_"));
        expect(roster.domains.map((d) => [d.name, principalsOf(prodWrites.filter((p) => p.schema === `prod_${d.name}`))])).toEqual(
          roster.domains.map((d) => [d.name, sorted(prodAccounts(roster))]),
        );
        expect(prodWrites.filter((p) => p.via.join() !== PROD_WRITER)).toEqual([]);
        const ci = new Set(roster.serviceAccounts.filter((a) => a.purpose === "ci").map((a) => a.name));
        expect(paths.filter((p) => ci.has(p.principal) && p.access === "write")).toEqual([]);
      }),
      RUNS,
    );
  });

  it("a restricted prod schema is read by exactly its listed readers and the prod accounts; an unrestricted one by everyone", () => {
    fc.assert(
      fc.property(rosters, (roster) => {
        const paths = accessPaths(buildBoundary(roster));
        const everyone = sorted([...roster.developers, ...roster.serviceAccounts].map((p) => p.name));
        expect(roster.domains.map((d) => [d.name, principalsOf(paths.filter((p) => p.schema === `prod_${d.name}`))])).toEqual(
          roster.domains.map((d) => [d.name, d.restricted ? distinct([...d.readers, ...prodAccounts(roster)]) : everyone]),
        );
      }),
      RUNS,
    );
  });

  it("nothing is granted to PUBLIC, PUBLIC is in no role, and no access path runs through it", () => {
    fc.assert(
      fc.property(rosters, (roster) => {
        const b = buildBoundary(roster);
        expect(b.grants.filter((g) => g.role === "public")).toEqual([]);
        expect(b.memberships.filter((m) => m.member === "public" || m.role === "public")).toEqual([]);
        expect(accessPaths(b).filter((p) => p.source === "public")).toEqual([]);
      }),
      RUNS,
    );
  });
});
