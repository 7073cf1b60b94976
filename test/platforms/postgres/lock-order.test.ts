import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildBoundary } from "../../../infra/boundary/build";
import { PUBLIC } from "../../../infra/boundary/model";
import { PG } from "../../../infra/platforms/kinds";
import { postgresResources } from "../../../infra/platforms/postgres";
import { takesRoleLocks } from "../../../infra/platforms/postgres/lock-order";
import { keyOf, namesOf, ResourceList, type DeclaredResource, type ResourceKey } from "../../../infra/platforms/resources";
import { validRoster } from "../../support/arbitraries";
import { shippedBoundary, shippedSettings } from "../../support/shipped";

// The provider's role advisory locks (pgLockRole) overlap on 16+ for every lock-taking resource, so the declared graph
// must order any two of them: then the engine, however parallel, never runs two at once.

const settings = { ...shippedSettings(), platforms: ["postgres" as const] };

/** Every resource's transitive dependencies, by key; a dependency on a resource not registered yet is a possible cycle. */
function dependencies(resources: readonly DeclaredResource[]): Map<ResourceKey, Set<ResourceKey>> {
  const closure = new Map<ResourceKey, Set<ResourceKey>>();
  for (const r of resources) {
    const all = new Set<ResourceKey>();
    for (const d of r.dependsOn.map(keyOf)) {
      const before = closure.get(d);
      if (before === undefined) throw new Error(`${keyOf(r)} depends on ${d}, which is not registered before it`);
      all.add(d);
      for (const dd of before) all.add(dd);
    }
    closure.set(keyOf(r), all);
  }
  return closure;
}

/** The lock-taking pairs neither of which depends, however indirectly, on the other. */
function unordered(resources: readonly DeclaredResource[]): string[] {
  const closure = dependencies(resources);
  const locking = resources.filter(takesRoleLocks).map(keyOf);
  const pairs: string[] = [];
  for (let i = 0; i < locking.length; i++)
    for (let j = i + 1; j < locking.length; j++) {
      const [a, b] = [locking[i]!, locking[j]!];
      if (!closure.get(b)!.has(a) && !closure.get(a)!.has(b)) pairs.push(`${a} | ${b}`);
    }
  return pairs;
}

describe("the order of the PostgreSQL resources that take the provider's role locks", () => {
  it("orders every two of them for the shipped roster, with no dependency on anything registered later (no cycle)", () => {
    const resources = postgresResources(shippedBoundary(), settings);
    expect(resources.filter(takesRoleLocks).length).toBeGreaterThan(30);
    expect(unordered(resources)).toEqual([]);
  });

  it("orders every two of them for random valid rosters", () => {
    fc.assert(
      fc.property(validRoster({ maxDevelopers: 4, maxDomains: 3, maxServiceAccounts: 2 }), (roster) => {
        expect(unordered(postgresResources(buildBoundary(roster), settings))).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  it("locks for roles, grants to a named role and default privileges; not for grants to PUBLIC, schemas or functions", () => {
    const kinds = new Map<string, Set<boolean>>();
    for (const r of postgresResources(shippedBoundary(), settings).filter((x) => x.custom)) {
      const kind = r.type === PG.grant ? (r.inputs.role === PUBLIC ? "Grant to PUBLIC" : "Grant to a role") : r.type.split(":").pop()!;
      kinds.set(kind, (kinds.get(kind) ?? new Set()).add(takesRoleLocks(r)));
    }
    expect(Object.fromEntries([...kinds].map(([k, v]) => [k, [...v]]))).toEqual({
      Role: [true], Schema: [false], "Grant to a role": [true], "Grant to PUBLIC": [false], DefaultPrivileges: [true], Function: [false],
    });
  });
});

describe("a list of the lock-taking resources, declared one at a time", () => {
  const declare = (list: ResourceList) => {
    const access = list.component("warehouse-access:postgres:Access", "postgres");
    const reader = list.resource(PG.role, "prod_reader", { name: "prod_reader" }, { parent: access });
    const schema = list.resource(PG.schema, "prod_sales", { name: "prod_sales", database: "analytics" }, { parent: access });
    const writer = list.resource(PG.role, "prod_writer", { name: "prod_writer" }, { parent: access });
    const usage = list.resource(PG.grant, "prod_sales/prod_reader/schema", {
      database: "analytics", schema: "prod_sales", objectType: "schema", role: "prod_reader", privileges: ["USAGE"],
    }, { parent: access, dependsOn: [schema, reader] });
    list.resource(PG.grant, "prod_sales/public/schema", {
      database: "analytics", schema: "prod_sales", objectType: "schema", role: PUBLIC, privileges: [],
    }, { parent: access, dependsOn: [usage] });
    list.resource(PG.defaultPrivileges, "prod_sales/prod_reader/future-tables", {
      database: "analytics", schema: "prod_sales", objectType: "table", owner: "prod_writer", role: "prod_reader", privileges: ["SELECT"],
    }, { parent: access, dependsOn: [writer] });
    return list.resources;
  };
  const free = declare(new ResourceList());
  const chained = declare(new ResourceList({ oneAtATime: takesRoleLocks }));
  const deps = (name: string) => namesOf(chained.find((r) => r.name === name)!.dependsOn);

  it("adds each lock-taking resource's predecessor among them, keeps every other dependency, and changes nothing else", () => {
    expect(deps("prod_reader")).toEqual([]);
    expect(deps("prod_sales")).toEqual([]);
    expect(deps("prod_writer")).toEqual(["prod_reader"]);
    expect(deps("prod_sales/prod_reader/schema")).toEqual(["prod_sales", "prod_reader", "prod_writer"]);
    // PUBLIC has no pg_roles row, so the provider locks nothing for it: it is left out of the chain.
    expect(deps("prod_sales/public/schema")).toEqual(["prod_sales/prod_reader/schema"]);
    expect(deps("prod_sales/prod_reader/future-tables")).toEqual(["prod_writer", "prod_sales/prod_reader/schema"]);
    const without = (r: DeclaredResource) => ({ ...r, dependsOn: [], parent: undefined });
    expect(chained.map(without)).toEqual(free.map(without));
    expect(unordered(chained)).toEqual([]);
    expect(unordered(free)).not.toEqual([]);
  });
});
