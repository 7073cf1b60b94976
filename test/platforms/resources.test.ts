import { describe, expect, it } from "vitest";
import { PG } from "../../infra/platforms/kinds";
import { ResourceList } from "../../infra/platforms/resources";

// The list every consumer reads: each resource names its parent, what it waits for and what replaces it by reference.

describe("a resource list", () => {
  const declare = (list: ResourceList) => {
    const access = list.component("warehouse-access:postgres:Access", "postgres");
    const role = list.resource(PG.role, "reader", { name: "reader", login: false, roles: [] }, { parent: access });
    const schema = list.resource(PG.schema, "s", { name: "s", database: "d" }, { parent: access });
    const grant = list.resource(PG.grant, "s/reader/schema", { database: "d", schema: "s", objectType: "schema", role: "reader", privileges: ["USAGE"] },
      { parent: access, dependsOn: [schema], replaceWith: [role], deleteBeforeReplace: true });
    return { access, role, schema, grant };
  };

  it("records the resources a resource names, and its options, as declared", () => {
    const list = new ResourceList();
    const { access, role, schema, grant } = declare(list);
    expect(grant).toMatchObject({ deleteBeforeReplace: true, protect: false, retainOnDelete: false, custom: true, ignoreChanges: [], aliases: [] });
    expect(grant.parent).toBe(access);
    expect(grant.dependsOn).toEqual([schema]);
    expect(grant.replaceWith).toEqual([role]);
    expect(access.parent).toBeUndefined();
    expect(list.resources).toEqual([access, role, schema, grant]);
  });

  it("makes each resource it must run one at a time wait for the one of them declared before it, and no other", () => {
    const list = new ResourceList({ oneAtATime: (r) => r.type !== PG.schema });
    const { role, schema, grant } = declare(list);
    expect(role.dependsOn).toEqual([]);
    expect(schema.dependsOn).toEqual([]);
    expect(grant.dependsOn).toEqual([schema, role]);
  });

  it("adds no wait a resource already has", () => {
    const list = new ResourceList({ oneAtATime: () => true });
    const access = list.component("warehouse-access:postgres:Access", "postgres");
    const role = list.resource(PG.role, "reader", { name: "reader" }, { parent: access });
    const grant = list.resource(PG.grant, "s/reader/schema", { database: "d", schema: "s", objectType: "schema", role: "reader", privileges: ["USAGE"] },
      { parent: access, dependsOn: [role] });
    expect(grant.dependsOn).toEqual([role]);
  });
});
