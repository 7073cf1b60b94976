import { beforeAll, describe, expect, it } from "vitest";
import { postgresResources } from "../../../infra/platforms/postgres";
import { interpretPostgresAccess } from "../../../infra/platforms/postgres/interpret";
import { expectedPostgresAccess } from "./expected";
import type { DeclaredResource } from "../../../infra/platforms/declare";
import { namesOf } from "../../../infra/platforms/resources";
import { shippedBoundary, shippedSettings } from "../../support/shipped";


const boundary = shippedBoundary();
let resources: DeclaredResource[];
const named = (type: string, name: string) => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};

beforeAll(() => {
  resources = postgresResources(boundary, shippedSettings());
});

describe("PostgreSQL resources for the shipped roster", () => {
  it("reads back to exactly the boundary: who writes and who reads each schema", () => {
    const access = interpretPostgresAccess(resources);
    expect(access).toEqual(expectedPostgresAccess(boundary));
    expect(access).toContainEqual({ login: "alice", schema: "prod_sales", access: "read" });
    expect(access).toContainEqual({ login: "erin", schema: "prod_finance", access: "read" });
    expect(access.filter((a) => a.schema === "prod_finance").map((a) => a.login)).toEqual(["carol", "erin", "svc_prod"]);
    expect(access.filter((a) => a.schema.startsWith("prod_") && a.access === "write").map((a) => a.login)).toEqual(Array(4).fill("svc_prod"));
  });

  it("gives no two resources the same type and name", () => {
    const keys = resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("protects every prod schema and makes prod_writer, which owns the tables and views in it, its owner", () => {
    for (const domain of ["sales", "marketing", "product", "finance"]) {
      const schema = named("postgresql:index/schema:Schema", `prod_${domain}`);
      expect(schema).toMatchObject({ protect: true, retainOnDelete: true, inputs: { name: `prod_${domain}`, database: "analytics", owner: "prod_writer" } });
      expect(namesOf(schema.dependsOn)).toContain("prod_writer");
    }
  });

  it("retains developer schemas on delete and makes the developer's role their owner", () => {
    const schema = named("postgresql:index/schema:Schema", "alice_sales");
    expect(schema).toMatchObject({ retainOnDelete: true, protect: false, parent: { name: "alice" }, inputs: { owner: "dev_alice" } });
    const developerSchemaNames = new Set(boundary.schemas.filter((s) => s.kind === "developer").map((s) => s.name));
    const developerSchemas = resources.filter((r) => r.type === "postgresql:index/schema:Schema" && developerSchemaNames.has(r.name));
    expect(developerSchemas).toHaveLength(developerSchemaNames.size);
    expect(developerSchemas.every((s) => s.retainOnDelete)).toBe(true);
  });

  it("keeps a restricted domain's developer copies with the provisioner and gives their developer's role USAGE and CREATE only", () => {
    const settings = shippedSettings();
    expect(named("postgresql:index/schema:Schema", "carol_finance")).toMatchObject({
      retainOnDelete: true, protect: false, parent: { name: "carol" }, inputs: { name: "carol_finance", database: "analytics", owner: settings.postgres.provisioner },
    });
    expect(named("postgresql:index/grant:Grant", "carol_finance/dev_carol/schema")).toMatchObject({
      dependsOn: expect.arrayContaining([expect.objectContaining({ name: "carol_finance" }), expect.objectContaining({ name: "dev_carol" })]), deleteBeforeReplace: true,
      inputs: { database: "analytics", schema: "carol_finance", objectType: "schema", role: "dev_carol", privileges: ["USAGE", "CREATE"] },
    });
    expect(resources.filter((r) => r.type === "postgresql:index/grant:Grant" && r.inputs.schema === "carol_finance").map((r) => r.name)).toEqual(["carol_finance/dev_carol/schema"]);
    // Without the provisioner's login in the stack, the schema is created by the provider's session, which is that login.
    const unnamed = postgresResources(boundary, { ...settings, postgres: { ...settings.postgres, provisioner: undefined } });
    expect(unnamed.find((r) => r.name === "carol_finance" && r.type === "postgresql:index/schema:Schema")?.inputs).toEqual({ name: "carol_finance", database: "analytics" });
  });

  it("has ci.create_schema refuse the restricted domain CI is no reader of, naming the roster change; with CI listed, make its schema a copy", () => {
    const body = String(named("postgresql:index/function:Function", "ci.create_schema").inputs.body);
    expect(body).toContain("IF domain = ANY (ARRAY['finance']::pg_catalog.text[]) THEN");
    expect(body).toContain("RAISE EXCEPTION 'domain % is restricted and CI is not one of its readers: add svc_ci to the readers of % in team.yaml', domain, domain");
    expect(body).toContain("is_copy := domain = ANY (ARRAY[]::pg_catalog.text[]);");
    const withCi = { ...boundary, ciSchemas: { ...boundary.ciSchemas, restrictedCopies: ["finance"] } };
    const copying = String(postgresResources(withCi, shippedSettings()).find((r) => r.name === "ci.create_schema")!.inputs.body);
    expect(copying).toContain("IF domain = ANY (ARRAY[]::pg_catalog.text[]) THEN");
    expect(copying).toContain("is_copy := domain = ANY (ARRAY['finance']::pg_catalog.text[]);");
    expect(copying).toContain("EXECUTE pg_catalog.format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', schema_name, 'ci_builder');");
  });

  it("denies PUBLIC everything on each prod schema and its tables", () => {
    for (const scope of ["schema", "table"]) {
      const grant = named("postgresql:index/grant:Grant", `prod_sales/public/${scope === "table" ? "tables" : "schema"}`);
      expect(grant.inputs).toMatchObject({ role: "public", objectType: scope, privileges: [], schema: "prod_sales" });
    }
  });

  it("covers future tables with default privileges FOR ROLE prod_writer, the role prod sessions act as", () => {
    expect(named("postgresql:index/defaultPrivileges:DefaultPrivileges", "prod_finance/prod_finance_reader/future-tables").inputs)
      .toMatchObject({ owner: "prod_writer", role: "prod_finance_reader", schema: "prod_finance", objectType: "table", privileges: ["SELECT"] });
    expect(named("postgresql:index/role:Role", "svc_prod").inputs).toMatchObject({ login: true, assumeRole: "prod_writer", roles: ["prod_writer"] });
  });

  it("serializes every change to one prod schema's ACL into a single chain", () => {
    const chain = resources.filter((r) => r.name.startsWith("prod_sales/"));
    expect(chain.map((r) => r.dependsOn[0]?.name)).toEqual(["prod_sales", ...chain.slice(0, -1).map((r) => r.name)]);
    // And after the last resource that takes the provider's role locks (the grant to PUBLIC takes none): see lock-order.ts.
    expect(named("postgresql:index/grant:Grant", "prod_sales/prod_reader/tables").dependsOn.map((d) => d.name)).toEqual(["prod_sales/public/schema", "prod_reader", "prod_sales/prod_writer/schema"]);
    expect(chain.every((r) => r.deleteBeforeReplace)).toBe(true);
  });

  it("keeps PUBLIC from executing the functions prod_writer creates (a SECURITY DEFINER one would run as the writer)", () => {
    expect(named("postgresql:index/defaultPrivileges:DefaultPrivileges", "prod_writer/public/functions").inputs)
      .toEqual({ database: "analytics", owner: "prod_writer", objectType: "function", role: "public", privileges: [] });
  });

  it("limits developers' blast radius on their login role", () => {
    expect(named("postgresql:index/role:Role", "dave_k").inputs).toMatchObject({
      login: true, roles: ["dev_dave"], statementTimeout: 300000, connectionLimit: 5,
    });
  });

  it("lets CI create ci_ schemas only through ci.create_schema, never with CREATE on the database", () => {
    expect(resources.filter((r) => r.type === "postgresql:index/grant:Grant" && r.inputs.objectType === "database")).toEqual([]);
    expect(named("postgresql:index/function:Function", "ci.create_schema").inputs).toMatchObject({
      schema: "ci", name: "create_schema", securityDefiner: true, language: "plpgsql",
      args: [{ name: "run", type: "text" }, { name: "domain", type: "text" }],
    });
    expect(named("postgresql:index/grant:Grant", "ci/ci_builder/functions").inputs).toMatchObject({ objectType: "function", role: "ci_builder", privileges: ["EXECUTE"] });
    expect(named("postgresql:index/grant:Grant", "ci/public/functions").inputs).toMatchObject({ objectType: "function", role: "public", privileges: [] });
    // No standing membership for the provisioner: the function grants itself ci_builder for each CREATE SCHEMA (16+ reads
    // one of two pg_auth_members rows back for a GrantRole, and its replacement revoked the membership).
    expect(resources.filter((r) => r.type === "postgresql:index/grantRole:GrantRole")).toEqual([]);
  });

  it("makes each service account's sessions act as its role, so what it creates belongs to that role", () => {
    expect(named("postgresql:index/role:Role", "svc_ci").inputs).toMatchObject({ assumeRole: "ci_builder", roles: ["ci_builder"] });
  });

  it("stays within D·M + 5·D + 8·M + 20 resources", () => {
    const developers = boundary.principals.filter((p) => p.kind === "developer").length;
    const domains = boundary.schemas.filter((s) => s.kind === "prod").length;
    expect(resources.length).toBeLessThanOrEqual(developers * domains + 5 * developers + 8 * domains + 20);
  });
});

describe("a boundary the PostgreSQL component cannot express", () => {
  it.each([
    ["PUBLIC read on a prod schema", { role: "public", schema: "prod_sales", access: "read" as const }, "read on prod_sales to public"],
    ["read on a developer's schema", { role: "dev_bob", schema: "alice_sales", access: "read" as const }, "read on alice_sales to dev_bob"],
    ["read on a restricted copy", { role: "dev_bob", schema: "carol_finance", access: "read" as const }, "read on carol_finance to dev_bob"],
  ])("is refused, not silently dropped: %s", (_, grant, named) => {
    const widened = { ...boundary, grants: [...boundary.grants, grant] };
    expect(() => postgresResources(widened, shippedSettings())).toThrow(`it cannot express ${named}`);
  });
});
