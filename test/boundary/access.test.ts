import { describe, expect, it } from "vitest";
import { accessOf, accessPaths, accessView, reachableRoles } from "../../infra/boundary/access";
import type { Boundary, Principal } from "../../infra/boundary/model";

// Effective access on small hand-built boundaries: grants, ownership and memberships, followed the way a
// warehouse follows them, including what PUBLIC holds (which every login holds too).

const person = (name: string): Principal => ({ name, kind: "developer", logins: { postgres: name, snowflake: name.toUpperCase() } });

const tiny = (extra: Partial<Boundary> = {}): Boundary => ({
  principals: [person("ann"), person("ben")],
  roles: [{ name: "dev_ann", kind: "developer", of: "ann" }, { name: "dev_ben", kind: "developer", of: "ben" }, { name: "prod_reader", kind: "prod_reader" }],
  schemas: [
    { name: "prod_x", kind: "prod", domain: "x", owner: null, restricted: false },
    { name: "ann_x", kind: "developer", domain: "x", developer: "ann", owner: "dev_ann", restricted: false },
  ],
  grants: [{ role: "prod_reader", schema: "prod_x", access: "read" }],
  memberships: [
    { member: "ann", role: "dev_ann" },
    { member: "ben", role: "dev_ben" },
    { member: "dev_ann", role: "prod_reader" },
  ],
  ciSchemas: { creator: "ci_builder", prefix: "ci_", restrictedCopies: [] },
  ...extra,
});

describe("access paths", () => {
  it("follow memberships to grants and ownership, naming the roles walked", () => {
    expect(accessPaths(tiny())).toEqual([
      { principal: "ann", schema: "ann_x", access: "write", via: ["dev_ann"], source: "owner" },
      { principal: "ann", schema: "prod_x", access: "read", via: ["dev_ann", "prod_reader"], source: "grant" },
    ]);
  });

  it("give a principal what is granted to its own name, with no roles walked", () => {
    const b = tiny();
    b.grants.push({ role: "ben", schema: "ann_x", access: "write" });
    expect(accessPaths(b).filter((p) => p.schema === "ann_x" && p.access === "write").map((p) => [p.principal, p.via, p.source])).toEqual([
      ["ann", ["dev_ann"], "owner"],
      ["ben", [], "grant"],
    ]);
  });

  it("give every principal what PUBLIC is granted, marked as from PUBLIC", () => {
    const b = tiny();
    b.grants.push({ role: "public", schema: "prod_x", access: "read" });
    expect(accessPaths(b).filter((p) => p.schema === "prod_x").map((p) => [p.principal, p.via, p.source])).toEqual([
      ["ann", ["dev_ann", "prod_reader"], "grant"],
      ["ann", [], "public"],
      ["ben", [], "public"],
    ]);
  });

  it("give every principal what PUBLIC reaches through a role it was made a member of", () => {
    const b = tiny();
    b.memberships.push({ member: "public", role: "prod_reader" });
    expect(accessPaths(b).filter((p) => p.schema === "prod_x").filter((p) => p.principal === "ben")).toEqual([
      { principal: "ben", schema: "prod_x", access: "read", via: ["prod_reader"], source: "public" },
    ]);
  });

  it("survive cycles of memberships and report each role once, by its shortest chain", () => {
    const b = tiny();
    b.memberships.push({ member: "prod_reader", role: "dev_ann" }, { member: "dev_ann", role: "dev_ann" }, { member: "ben", role: "prod_reader" });
    expect(reachableRoles(b, "ann")).toEqual(new Map([["dev_ann", ["dev_ann"]], ["prod_reader", ["dev_ann", "prod_reader"]]]));
    expect(reachableRoles(b, "ben")).toEqual(
      new Map([["dev_ben", ["dev_ben"]], ["prod_reader", ["prod_reader"]], ["dev_ann", ["prod_reader", "dev_ann"]]]),
    );
    expect(accessPaths(b).filter((p) => p.schema === "ann_x" && p.access === "write").map((p) => [p.principal, p.via.join(" → ")])).toEqual([
      ["ann", "dev_ann"],
      ["ben", "prod_reader → dev_ann"],
    ]);
  });

  it("answer for a role as well as a principal: what the role holds itself and through the roles it reaches", () => {
    const b = tiny();
    expect(accessOf(b, "dev_ann").map((p) => [p.principal, p.access, p.schema, p.via.join(" → "), p.source])).toEqual([
      ["dev_ann", "write", "ann_x", "", "owner"],
      ["dev_ann", "read", "prod_x", "prod_reader", "grant"],
    ]);
    expect(accessOf(b, "nobody")).toEqual([]);
  });

  it("are the same whether asked once or through a shared view", () => {
    const b = tiny({ memberships: [...tiny().memberships, { member: "public", role: "prod_reader" }] });
    const view = accessView(b);
    expect(view.paths()).toEqual(accessPaths(b));
    expect(view.accessOf("public")).toEqual(accessOf(b, "public"));
    expect(view.reachable("ann")).toEqual(reachableRoles(b, "ann"));
  });
});
