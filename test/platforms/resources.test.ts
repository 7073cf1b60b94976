import { describe, expect, it } from "vitest";
import { PG } from "../../infra/platforms/kinds";
import { ResourceList } from "../../infra/platforms/resources";

// The list every consumer reads: names for people, keys for wiring, and no two resources with one URN.

describe("a resource list", () => {
  it("records references both by logical name and by key", () => {
    const list = new ResourceList();
    const access = list.component("warehouse-access:postgres:Access", "postgres");
    const role = list.resource(PG.role, "reader", { name: "reader", login: false, roles: [] }, { parent: access });
    const grant = list.resource(PG.grant, "s/reader/schema", { database: "d", schema: "s", objectType: "schema", role: "reader", privileges: ["USAGE"] },
      { parent: access, dependsOn: [role], replaceWith: [role], deleteBeforeReplace: true });
    expect(grant).toMatchObject({
      parent: "postgres", dependsOn: ["reader"], replaceWith: ["reader"], deleteBeforeReplace: true, protect: false, custom: true,
      refs: { parent: "warehouse-access:postgres:Access::postgres", dependsOn: ["postgresql:index/role:Role::reader"], replaceWith: ["postgresql:index/role:Role::reader"] },
    });
    expect(list.resources).toEqual([access, role, grant]);
  });

  it("refuses two resources of one type with one name, which Pulumi would refuse as one URN", () => {
    const list = new ResourceList();
    const access = list.component("warehouse-access:postgres:Access", "postgres");
    list.resource(PG.schema, "ci", { name: "ci", database: "d" }, { parent: access });
    expect(() => list.resource(PG.schema, "ci", { name: "ci", database: "d" }, { parent: access }))
      .toThrow("two resources would be postgresql:index/schema:Schema::ci; logical names must be unique per type");
    // The same name on another type is another URN.
    expect(() => list.resource(PG.role, "ci", { name: "ci" }, { parent: access })).not.toThrow();
  });
});
