import { readFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { accessPaths, reachableRoles } from "../../../infra/boundary/access";
import { buildBoundary } from "../../../infra/boundary/build";
import type { Boundary } from "../../../infra/boundary/model";
import type { DeclaredResource } from "../../../infra/platforms/declare";
import { keyOf } from "../../../infra/platforms/resources";
import { CREATED_MARKER } from "../../../infra/ci/schema";
import { SNOWFLAKE_PREVIEW_FEATURES, snowflakeResources } from "../../../infra/platforms/snowflake";
import { CI_SCHEMA_NAMES } from "../../../infra/platforms/snowflake/ci-schemas";
import { identifierParts } from "../../../infra/platforms/snowflake/identifiers";
import { storedFormProblems } from "../../../infra/platforms/snowflake/stored-form";
import { databasePrivileges, objectOwningRoles } from "../../../infra/platforms/snowflake/roles";
import { interpretSnowflakeAccess, SNOWFLAKE_TYPES, type HolderAccess, type SchemaCreation } from "../../../infra/platforms/snowflake/interpret";
import { loadRoster, parseRoster } from "../../../infra/roster/load";
import { snowflakeName } from "../../../infra/roster/naming";
import type { Roster } from "../../../infra/roster/types";
import { parseStackSettings, projectConfig, type StackSettings } from "../../../infra/stack";
import { validRoster } from "../../support/arbitraries";
import { shuffled } from "../../support/shuffle";

const ROOT = path.resolve(__dirname, "../../..");
const stackFile = parseYaml(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
const settings: StackSettings = parseStackSettings(projectConfig(stackFile.config), "Pulumi.prod.yaml");
const rosterText = readFileSync(path.join(ROOT, "team.yaml"), "utf8");
const boundary = buildBoundary(loadRoster(path.join(ROOT, "team.yaml")));
const ADMIN = settings.snowflake!.adminRole;

const T = SNOWFLAKE_TYPES;
const PROD_SCHEMA = "warehouse-access:snowflake:ProdSchema";

/** The Snowflake resources alone for a boundary, with the resource count its component exports. */
function declare(b: Boundary): { resources: DeclaredResource[]; component: { resourceCount: unknown } } {
  const resources = snowflakeResources(b, settings);
  return { resources, component: { resourceCount: resources[0]!.outputs?.resourceCount } };
}

/** One order for both sides: by holder, then schema, in code-unit order. */
const sorted = (entries: readonly HolderAccess[]): HolderAccess[] =>
  [...entries].sort((a, b) => (a.holder < b.holder ? -1 : a.holder > b.holder ? 1 : a.schema < b.schema ? -1 : a.schema > b.schema ? 1 : 0));

/** The boundary's access in the interpreter's terms: Snowflake user, upper-case schema, strongest access. */
function expectedAccess(b: Boundary): HolderAccess[] {
  const userOf = new Map(b.principals.map((p) => [p.name, p.logins.snowflake]));
  const levels = new Map<string, HolderAccess>();
  for (const p of accessPaths(b)) {
    const entry: HolderAccess = { holder: userOf.get(p.principal)!, database: snowflakeName(settings.database), schema: snowflakeName(p.schema), access: p.access };
    const key = `${entry.holder}/${entry.schema}`;
    if (levels.get(key)?.access !== "write") levels.set(key, entry);
  }
  return sorted([...levels.values()]);
}

const CREATE_CI_SCHEMA = '"ANALYTICS"."GOVERNANCE"."CREATE_CI_SCHEMA"(VARCHAR, VARCHAR)';

/** The boundary's schema creation in the interpreter's terms: whoever holds the CI role makes CI_<RUN>_<DOMAIN> through the procedure, nobody anything else. */
function expectedCreation(b: Boundary): SchemaCreation[] {
  return b.principals
    .filter((p) => reachableRoles(b, p.name).has(b.ciSchemas.creator))
    .map((p) => ({ holder: p.logins.snowflake, database: "ANALYTICS", names: CI_SCHEMA_NAMES, owner: snowflakeName(b.ciSchemas.creator), via: CREATE_CI_SCHEMA }))
    .sort((x, y) => (x.holder < y.holder ? -1 : 1));
}

/**
 * Resources for D developers, M domains (the first R restricted, each read by its first `readersPer` developers) and
 * S service accounts, every developer on every domain they may read: the bench's shape.
 */
function rosterOfSize(D: number, M: number, R: number, readersPer: number, S = 2): Roster {
  const developers = Array.from({ length: D }, (_, i) => `dev${i}x`);
  const domains = Array.from({ length: M }, (_, j) => ({
    name: `domain${j}`,
    restricted: j < R,
    readers: j < R ? developers.slice(0, readersPer) : [],
  }));
  return {
    domains,
    developers: developers.map((name) => ({
      name, email: `${name}@acme.example`, snowflakeUser: snowflakeName(name), postgresLogin: name,
      domains: domains.filter((d) => !d.restricted || d.readers.includes(name)).map((d) => d.name),
    })),
    serviceAccounts: Array.from({ length: S }, (_, k) => ({
      name: `svc_${k}`, purpose: k === 0 ? ("prod" as const) : ("ci" as const), snowflakeUser: `SVC_${k}`, postgresLogin: `svc_${k}`,
    })),
  };
}

/**
 * What the component makes: 1 component, 1 role per boundary role (3 + R + D), 1 roll-up per object-owning role
 * (≤ D + 2: developer roles, the writer, and CI, whose schemas the provisioner hands over), 1 database grant per role that does not inherit USAGE (≤ 3 + R), 1 warehouse grant per developer plus CI
 * and the writer (D + 2), 1 grant per membership (2·D + Q + S + 1), 8 per prod schema, 2 per developer schema, for
 * service accounts 1 policy plus 2 each, and 3 for CI's schema creation (the procedure, USAGE on it and on its schema).
 * With every developer owning a schema and one unrestricted domain (so CI inherits database USAGE) this is exactly
 * 5·D + 2·P + Q + 8·M + 2·R + 3·S + 15 (P developer schemas, Q restricted-reader memberships); never more.
 */
function formula(b: Boundary): { exact: number; closed: number } {
  const D = b.principals.filter((p) => p.kind === "developer").length;
  const S = b.principals.filter((p) => p.kind === "service").length;
  const M = b.schemas.filter((s) => s.kind === "prod").length;
  const R = b.roles.filter((r) => r.kind === "restricted_reader").length;
  const P = b.schemas.filter((s) => s.kind === "developer").length;
  const exact = 1 + b.roles.length + objectOwningRoles(b).length + databasePrivileges(b).size + (D + 2) + b.memberships.length
    + 8 * M + 2 * P + (S > 0 ? 1 + 2 * S : 0) + 3;
  const Q = b.memberships.filter((m) => b.roles.find((r) => r.name === m.role)?.kind === "restricted_reader").length;
  return { exact, closed: 5 * D + 2 * P + Q + 8 * M + 2 * R + 3 * S + 15 };
}
const budget = (D: number, M: number) => 2 * D * M + 5 * D + 10 * M + 20;

let resources: DeclaredResource[];
let component: { resourceCount: unknown };
const named = (type: string, name: string): DeclaredResource => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};
const ofType = (type: string) => resources.filter((r) => r.type === type);

beforeAll(async () => {
  ({ resources, component } = await declare(boundary));
});

describe("Snowflake resources for the shipped roster", () => {
  it("reads back to exactly the boundary: who writes and who reads each schema", () => {
    const reading = interpretSnowflakeAccess(resources, { provisionerRole: ADMIN });
    expect(sorted(reading.access)).toEqual(expectedAccess(boundary));
    expect(reading.partialReads).toEqual([]);
    expect(reading.access).toContainEqual({ holder: "CAROL.DIAZ@ACME.EXAMPLE", database: "ANALYTICS", schema: "PROD_FINANCE", access: "read" });
    expect(reading.access.filter((a) => a.schema === "PROD_FINANCE").map((a) => a.holder)).toEqual(["CAROL.DIAZ@ACME.EXAMPLE", "ERIN", "SVC_PROD"]);
    const prodWriters = reading.access.filter((a) => a.schema.startsWith("PROD_") && a.access === "write");
    expect(prodWriters.map((a) => a.holder)).toEqual(Array(4).fill("SVC_PROD"));
    expect(reading.access.filter((a) => a.holder === "SVC_CI").map((a) => a.schema)).toEqual(["PROD_MARKETING", "PROD_PRODUCT", "PROD_SALES"]);
  });

  it("shows the provisioner's role as an admin path: it owns prod schemas and inherits the object-owning roles", () => {
    const reading = interpretSnowflakeAccess(resources, { provisionerRole: ADMIN });
    const schemas = boundary.schemas.map((s) => snowflakeName(s.name)).sort();
    expect(reading.adminAccess.filter((a) => a.access === "write").map((a) => a.schema)).toEqual(schemas);
    expect(ofType(T.grantAccountRole).filter((g) => g.inputs.parentRoleName === `"${ADMIN}"`).map((g) => g.name).sort())
      .toEqual(["ci_builder", "dev_alice", "dev_bob", "dev_carol", "dev_dave", "dev_erin", "prod_writer"].map((r) => `${r}/admin-roll-up`));
  });

  it("keeps the roll-ups' names when adminRole changes, and adopts the names a stack deployed before gave them", () => {
    const rollUps = (adminRole: string) => snowflakeResources(boundary, { ...settings, snowflake: { ...settings.snowflake!, adminRole } })
      .filter((r) => r.type === T.grantAccountRole && r.name.endsWith("/admin-roll-up"));
    const [shipped, other] = [rollUps(ADMIN), rollUps("OTHER_PROVISIONER")];
    expect(other.map((r) => r.name)).toEqual(shipped.map((r) => r.name));
    // parent_role_name is ForceNew: a new adminRole replaces each grant, under the same name.
    expect(other.map((r) => r.inputs.parentRoleName)).toEqual(shipped.map(() => '"OTHER_PROVISIONER"'));
    // Until now each was named after the role it rolls up to: the alias keeps such a stack's grant instead of replacing it.
    expect(named(T.grantAccountRole, "prod_writer/admin-roll-up").aliases).toEqual([`prod_writer/${ADMIN}`]);
    expect(other.map((r) => r.aliases)).toEqual(other.map((r) => [r.name.replace("admin-roll-up", "OTHER_PROVISIONER")]));
    expect(resources.filter((r) => r.aliases.length > 0).map((r) => r.name)).toEqual(shipped.map((r) => r.name));
  });

  it("gives no two resources the same type and name, and counts itself right", () => {
    const keys = resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(component.resourceCount).toBe(resources.length);
    expect(resources.length).toBe(formula(boundary).exact);
    expect(resources.length).toBe(formula(boundary).closed);
  });

  it("creates every boundary role as an upper-case account role", () => {
    expect(ofType(T.accountRole).map((r) => [r.name, r.inputs.name, r.parent?.name])).toEqual(
      boundary.roles.map((r) => [r.name, snowflakeName(r.name), "snowflake"]),
    );
  });

  it("makes prod schemas managed access, protected, never dropped and owned by the provisioner", () => {
    for (const domain of ["sales", "marketing", "product", "finance"]) {
      const schema = named(T.schema, `prod_${domain}`);
      expect(schema).toMatchObject({
        protect: true, retainOnDelete: true, parent: { name: `prod_${domain}` },
        inputs: { name: `PROD_${domain.toUpperCase()}`, database: "ANALYTICS", withManagedAccess: "true" },
      });
      expect(named(PROD_SCHEMA, `prod_${domain}`)).toMatchObject({ parent: { name: "snowflake" }, protect: false, custom: false });
      expect(ofType(T.grantOwnership).some((o) => o.name === `prod_${domain}`)).toBe(false);
    }
    const facts = interpretSnowflakeAccess(resources, { provisionerRole: ADMIN }).schemas;
    expect(facts.filter((s) => s.schema.startsWith("PROD_")).every((s) => s.managedAccess && s.owner === ADMIN)).toBe(true);
  });

  it("lets the writer create objects in each prod schema, one privilege per element, without MODIFY or grant option", () => {
    const grant = named(T.grantPrivileges, "prod_sales/prod_writer/write");
    expect(grant).toMatchObject({ parent: { name: "prod_sales" }, inputs: { accountRoleName: '"PROD_WRITER"', onSchema: { schemaName: '"ANALYTICS"."PROD_SALES"' } } });
    expect(grant.inputs.privileges).toEqual(expect.arrayContaining(["USAGE", "CREATE TABLE", "CREATE VIEW", "CREATE PROCEDURE"]));
    expect(grant.inputs.privileges).not.toContain("MODIFY");
    expect(grant.inputs.withGrantOption).toBeUndefined();
  });

  it("gives readers USAGE and SELECT on all and future tables and views, declared per prod schema", () => {
    expect(named(T.grantPrivileges, "prod_sales/prod_reader/usage").inputs).toEqual({
      accountRoleName: '"PROD_READER"', privileges: ["USAGE"], onSchema: { schemaName: '"ANALYTICS"."PROD_SALES"' },
    });
    expect(named(T.grantPrivileges, "prod_finance/prod_finance_reader/future-views").inputs).toEqual({
      accountRoleName: '"PROD_FINANCE_READER"', privileges: ["SELECT"],
      onSchemaObject: { future: { objectTypePlural: "VIEWS", inSchema: '"ANALYTICS"."PROD_FINANCE"' } },
    });
    expect(resources.some((r) => r.name.startsWith("prod_finance/prod_reader/"))).toBe(false);
    expect(ofType(T.grantPrivileges).filter((g) => g.name.startsWith("prod_sales/")).map((g) => g.name).sort()).toEqual([
      "prod_sales/prod_reader/all-tables", "prod_sales/prod_reader/all-views", "prod_sales/prod_reader/future-tables",
      "prod_sales/prod_reader/future-views", "prod_sales/prod_reader/usage", "prod_sales/prod_writer/write",
    ]);
  });

  it("writes every privilege as one upper-case element", () => {
    for (const grant of ofType(T.grantPrivileges)) {
      const privileges = grant.inputs.privileges as string[];
      expect(privileges.length).toBeGreaterThan(0);
      for (const privilege of privileges) expect(privilege).toMatch(/^[A-Z]+( [A-Z]+)*$/);
      expect(new Set(privileges).size).toBe(privileges.length);
    }
  });

  it("names every Snowflake object in upper case, and quotes every identifier the provider parses", () => {
    for (const type of [T.accountRole, T.schema, T.serviceUser, T.authenticationPolicy])
      for (const r of ofType(type)) expect(r.inputs.name).toBe((r.inputs.name as string).toUpperCase());
    const identifiers = [
      ...ofType(T.grantAccountRole).flatMap((g) => [g.inputs.roleName, g.inputs.userName, g.inputs.parentRoleName]),
      ...ofType(T.grantPrivileges).map((g) => g.inputs.accountRoleName),
      ...ofType(T.grantOwnership).map((g) => g.inputs.accountRoleName),
    ].filter((v): v is string => v !== undefined);
    for (const identifier of identifiers) {
      expect(identifier).toMatch(/^"[^"]+"$/);
      expect(identifier).toBe(identifier.toUpperCase());
    }
    expect(named(T.grantAccountRole, "carol/dev_carol").inputs).toEqual({ roleName: '"DEV_CAROL"', userName: '"CAROL.DIAZ@ACME.EXAMPLE"' });
    expect(identifierParts('"CAROL.DIAZ@ACME.EXAMPLE"')).toEqual(["CAROL.DIAZ@ACME.EXAMPLE"]);
  });

  it("creates developer schemas, hands them to the developer's role, and keeps them when the developer leaves", () => {
    const schema = named(T.schema, "alice_sales");
    expect(schema).toMatchObject({ retainOnDelete: true, protect: false, parent: { name: "snowflake" }, inputs: { name: "ALICE_SALES", database: "ANALYTICS" } });
    expect(schema.inputs.withManagedAccess).toBeUndefined();
    expect(named(T.grantOwnership, "alice_sales")).toMatchObject({
      parent: { name: "snowflake" }, deleteBeforeReplace: true, dependsOn: [{ name: "alice_sales" }, { name: "dev_alice" }, { name: "dev_alice/admin-roll-up" }],
      inputs: { accountRoleName: '"DEV_ALICE"', outboundPrivileges: "COPY", on: { objectType: "SCHEMA", objectName: '"ANALYTICS"."ALICE_SALES"' } },
    });
    const developerSchemas = boundary.schemas.filter((s) => s.kind === "developer").map((s) => s.name).sort();
    expect(ofType(T.schema).filter((s) => s.retainOnDelete && !s.protect).map((s) => s.name).sort()).toEqual(developerSchemas);
    expect(ofType(T.grantOwnership).map((o) => o.name).sort()).toEqual(developerSchemas.filter((s) => !s.endsWith("_finance")));
  });

  it("keeps a restricted domain's developer copies with the provisioner, managed access, the developer's role creating in them", () => {
    // Managed access: only the schema's owner (the provisioner's role) grants on it or on anything in it, so carol's tables
    // and views in CAROL_FINANCE cannot be granted onward (docs "Creating managed access schemas").
    expect(named(T.schema, "carol_finance").inputs).toMatchObject({ name: "CAROL_FINANCE", withManagedAccess: "true" });
    expect(ofType(T.grantOwnership).filter((o) => o.name.endsWith("_finance"))).toEqual([]);
    expect(named(T.grantPrivileges, "carol_finance/dev_carol/write").inputs).toEqual({
      accountRoleName: '"DEV_CAROL"',
      privileges: ["USAGE", "CREATE TABLE", "CREATE VIEW", "CREATE SEQUENCE", "CREATE FUNCTION", "CREATE PROCEDURE", "CREATE STAGE", "CREATE FILE FORMAT", "CREATE STREAM"],
      onSchema: { schemaName: '"ANALYTICS"."CAROL_FINANCE"' },
    });
    expect(ofType(T.grantPrivileges).filter((g) => JSON.stringify(g.inputs).includes("CAROL_FINANCE")).map((g) => g.name)).toEqual(["carol_finance/dev_carol/write"]);
  });

  it("grants memberships from the boundary: developers by their existing user, roles to roles", () => {
    expect(named(T.grantAccountRole, "alice/dev_alice").inputs).toEqual({ roleName: '"DEV_ALICE"', userName: '"ALICE"' });
    expect(named(T.grantAccountRole, "dev_erin/prod_finance_reader").inputs).toEqual({ roleName: '"PROD_FINANCE_READER"', parentRoleName: '"DEV_ERIN"' });
    expect(named(T.grantAccountRole, "ci_builder/prod_reader").inputs).toEqual({ roleName: '"PROD_READER"', parentRoleName: '"CI_BUILDER"' });
    expect(named(T.grantAccountRole, "svc_prod/prod_writer").inputs).toEqual({ roleName: '"PROD_WRITER"', userName: '"SVC_PROD"' });
    const memberships = ofType(T.grantAccountRole).filter((g) => g.inputs.parentRoleName !== `"${ADMIN}"`);
    expect(memberships.map((g) => g.name).sort()).toEqual(boundary.memberships.map((m) => `${m.member}/${m.role}`).sort());
    expect(ofType(T.user)).toEqual([]);
  });

  it("makes service accounts TYPE=SERVICE users with their key, role and warehouse, allowed key pair only", () => {
    expect(named(T.serviceUser, "svc_prod").inputs).toMatchObject({
      name: "SVC_PROD", defaultRole: "PROD_WRITER", defaultWarehouse: "PROD_WH", rsaPublicKey: expect.stringMatching(/^MIIBIjAN/),
    });
    expect(named(T.serviceUser, "svc_ci").inputs).toMatchObject({ name: "SVC_CI", defaultRole: "CI_BUILDER", defaultWarehouse: "CI_WH" });
    expect(named(T.authenticationPolicy, "service-keypair-only")).toMatchObject({
      inputs: { database: "ANALYTICS", schema: "GOVERNANCE", name: "SERVICE_KEYPAIR_ONLY", authenticationMethods: ["KEYPAIR"], mfaEnrollment: "OPTIONAL" },
      ignoreChanges: ["mfaEnrollment"], deleteBeforeReplace: true,
    });
    // The user by its bare name, as the provider reads it back: quoted, it would be replaced on every up.
    expect(named(T.userAuthenticationPolicy, "svc_prod")).toMatchObject({
      inputs: { userName: "SVC_PROD", authenticationPolicyName: '"ANALYTICS"."GOVERNANCE"."SERVICE_KEYPAIR_ONLY"' },
      deleteBeforeReplace: true,
    });
    const users = interpretSnowflakeAccess(resources, { provisionerRole: ADMIN }).users;
    expect(users).toEqual([
      { user: "SVC_CI", type: "SERVICE", defaultRole: "CI_BUILDER", hasRsaPublicKey: true, hasPassword: false, authenticationMethods: ["KEYPAIR"] },
      { user: "SVC_PROD", type: "SERVICE", defaultRole: "PROD_WRITER", hasRsaPublicKey: true, hasPassword: false, authenticationMethods: ["KEYPAIR"] },
    ]);
  });

  it("keeps a rotation's second key on the service user, as the body DESCRIBE USER prints, and only while the roster has it", () => {
    const file = parseYaml(rosterText) as { service_accounts: { name: string; rsa_public_key?: string; rsa_public_key_2?: string }[] };
    const [prod, ci] = [file.service_accounts.find((a) => a.name === "svc_prod")!, file.service_accounts.find((a) => a.name === "svc_ci")!];
    prod.rsa_public_key_2 = ci.rsa_public_key!;
    const result = parseRoster(JSON.stringify(file), "rotating.yaml");
    expect(result.problems).toBeUndefined();
    const rotating = snowflakeResources(buildBoundary(result.roster!), settings);
    const user = rotating.find((r) => r.type === T.serviceUser && r.name === "svc_prod")!;
    expect(user.inputs).toMatchObject({ rsaPublicKey: prod.rsa_public_key, rsaPublicKey2: ci.rsa_public_key });
    expect(storedFormProblems(user)).toEqual([]);
    expect(Object.keys(named(T.serviceUser, "svc_prod").inputs)).not.toContain("rsaPublicKey2");
  });

  it("gives no role CREATE SCHEMA on the database: the provisioner, which owns it, is the only one that has it", () => {
    const onDatabase = ofType(T.grantPrivileges).filter((g) => (g.inputs.onAccountObject as { objectType?: string } | undefined)?.objectType === "DATABASE");
    expect(onDatabase.length).toBeGreaterThan(0);
    for (const g of onDatabase) expect(g.inputs.privileges).toEqual(["USAGE"]);
    expect(ofType(T.grantPrivileges).filter((g) => g.inputs.allPrivileges !== undefined || g.inputs.onAccount !== undefined)).toEqual([]);
    expect(ofType(T.grantOwnership).filter((o) => (o.inputs.on as { objectType: string }).objectType !== "SCHEMA")).toEqual([]);
    const reading = interpretSnowflakeAccess(resources, { provisionerRole: ADMIN });
    expect(reading.schemaCreation.filter((c) => c.names !== CI_SCHEMA_NAMES)).toEqual([]);
  });

  it("keeps CI's schemas of a restricted domain it is a reader of with the provisioner's role, managed access, and refuses the others by the roster change", () => {
    const shippedBody = named(T.procedureSql, "create_ci_schema").inputs.procedureDefinition as string;
    expect(shippedBody).toContain("'that domain is restricted and CI is not one of its readers: add the purpose: ci account to its readers in team.yaml'");
    const yaml = rosterText.replace("readers: [carol, erin]", "readers: [carol, erin, svc_ci]");
    expect(yaml).not.toBe(rosterText);
    const withCi = snowflakeResources(buildBoundary(parseRoster(yaml, "team.yaml").roster!), settings);
    const body = withCi.find((r) => r.type === T.procedureSql)!.inputs.procedureDefinition as string;
    for (const part of [
      "IF (ARRAY_CONTAINS(domain_name::VARIANT, ARRAY_CONSTRUCT())) THEN\n    RAISE restricted_domain;",
      "IF (NOT ARRAY_CONTAINS(domain_name::VARIANT, ARRAY_CONSTRUCT('FINANCE', 'MARKETING', 'PRODUCT', 'SALES'))) THEN",
      "IF (ARRAY_CONTAINS(domain_name::VARIANT, ARRAY_CONSTRUCT('FINANCE'))) THEN\n    IF (owner_role IS NOT NULL",
      `'CREATE TRANSIENT SCHEMA "ANALYTICS"."' || schema_name || '" WITH MANAGED ACCESS COMMENT = ''${CREATED_MARKER}'`,
      `'GRANT USAGE, CREATE TABLE, CREATE VIEW, CREATE SEQUENCE, CREATE FUNCTION, CREATE PROCEDURE, CREATE STAGE, CREATE FILE FORMAT, CREATE STREAM ON SCHEMA "ANALYTICS"."' || schema_name || '" TO ROLE "CI_BUILDER"'`,
    ]) expect(body).toContain(part);
    // The copy branch returns before any GRANT OWNERSHIP: a restricted copy is never handed to CI_BUILDER.
    expect(body.indexOf("WITH MANAGED ACCESS")).toBeLessThan(body.indexOf("GRANT OWNERSHIP"));
    expect(body.slice(body.indexOf("WITH MANAGED ACCESS"), body.indexOf("GRANT OWNERSHIP"))).toContain("RETURN schema_name;");
  });

  it("lets CI create schemas only through CREATE_CI_SCHEMA: an owner's-rights procedure that validates, checks the domain and hands over", () => {
    const procedure = named(T.procedureSql, "create_ci_schema");
    expect(procedure).toMatchObject({
      parent: { name: "snowflake" }, protect: false, deleteBeforeReplace: true,
      inputs: {
        database: "ANALYTICS", schema: "GOVERNANCE", name: "CREATE_CI_SCHEMA", executeAs: "OWNER", returnType: "VARCHAR",
        arguments: [{ argName: "RUN", argDataType: "VARCHAR" }, { argName: "DOMAIN", argDataType: "VARCHAR" }],
      },
    });
    const body = procedure.inputs.procedureDefinition as string;
    for (const part of [
      "run_id := UPPER(RUN);", "domain_name := UPPER(DOMAIN);",
      // No _ in the run id: CI_<RUN>_<DOMAIN> splits one way only.
      "REGEXP_LIKE(run_id, '^[A-Z0-9]+$')", "REGEXP_LIKE(domain_name, '^[A-Z][A-Z0-9_]*$')",
      // Only the domains CI_BUILDER reads; the restricted one refused by name.
      "IF (ARRAY_CONTAINS(domain_name::VARIANT, ARRAY_CONSTRUCT('FINANCE'))) THEN\n    RAISE restricted_domain;",
      "IF (NOT ARRAY_CONTAINS(domain_name::VARIANT, ARRAY_CONSTRUCT('MARKETING', 'PRODUCT', 'SALES'))) THEN\n    RAISE unknown_domain;",
      "schema_name := 'CI_' || run_id || '_' || domain_name;",
      // TRANSIENT: a dropped CI schema costs no Fail-safe storage; plain CREATE, so a race fails instead of adopting.
      `'CREATE TRANSIENT SCHEMA "ANALYTICS"."' || schema_name || '" COMMENT = ''${CREATED_MARKER}' || TO_VARCHAR(SYSDATE(), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`,
      `'GRANT OWNERSHIP ON SCHEMA "ANALYTICS"."' || schema_name || '" TO ROLE "CI_BUILDER" COPY CURRENT GRANTS'`,
      // A failed hand-over drops the schema again; a half-made one (the provisioner's, marked) is finished next time.
      `EXCEPTION\n    WHEN OTHER THEN\n      ddl := 'DROP SCHEMA IF EXISTS "ANALYTICS"."' || schema_name || '"';\n      EXECUTE IMMEDIATE :ddl;\n      RAISE;`,
      `IF (owner_role IS NOT NULL AND NOT (owner_role = '${ADMIN}' AND STARTSWITH(schema_comment, '${CREATED_MARKER}'))) THEN\n    RAISE taken;`,
    ]) expect(body).toContain(part);
    // No line comments (a body must survive whitespace folding when compared), and $$ would end it.
    expect(body).not.toContain("--");
    expect(body).not.toContain("$$");
    // Outside string literals, the arguments are read once each, into the variables the patterns check.
    expect(body.replace(/'(?:[^']|'')*'/g, "''").match(/\b(RUN|DOMAIN)\b/g)).toEqual(["RUN", "DOMAIN"]);
    expect(SNOWFLAKE_PREVIEW_FEATURES).toContain("snowflake_procedure_sql_resource");

    expect(named(T.grantPrivileges, "create_ci_schema/ci_builder")).toMatchObject({
      parent: { name: "snowflake" }, replaceWith: [{ name: "create_ci_schema" }],
      inputs: { accountRoleName: '"CI_BUILDER"', privileges: ["USAGE"], onSchemaObject: { objectType: "PROCEDURE", objectName: CREATE_CI_SCHEMA } },
    });
    expect(named(T.grantPrivileges, "GOVERNANCE/ci_builder/usage").inputs).toEqual({
      accountRoleName: '"CI_BUILDER"', privileges: ["USAGE"], onSchema: { schemaName: '"ANALYTICS"."GOVERNANCE"' },
    });
    expect(ofType(T.grantPrivileges).filter((g) => JSON.stringify(g.inputs).includes("GOVERNANCE")).map((g) => g.name).sort())
      .toEqual(["GOVERNANCE/ci_builder/usage", "create_ci_schema/ci_builder"]);
  });

  it("reads back CI's schema creation exactly as the boundary says, and gives CI nothing of the procedure owner's rights", () => {
    const reading = interpretSnowflakeAccess(resources, { provisionerRole: ADMIN });
    expect(reading.schemaCreation).toEqual(expectedCreation(boundary));
    expect(reading.schemaCreation).toEqual([
      { holder: "SVC_CI", database: "ANALYTICS", names: "CI_<RUN>_<DOMAIN>", owner: "CI_BUILDER", via: CREATE_CI_SCHEMA },
    ]);
    expect(reading.access.filter((a) => a.holder === "SVC_CI" && a.access === "write")).toEqual([]);
  });

  it("grants database and warehouse USAGE per role", () => {
    // Developer roles and CI inherit database USAGE through prod_reader, which holds it.
    expect(ofType(T.grantPrivileges).filter((g) => g.name.endsWith("/database")).map((g) => [g.name, g.inputs.privileges])).toEqual([
      ["analytics/prod_finance_reader/database", ["USAGE"]],
      ["analytics/prod_reader/database", ["USAGE"]],
      ["analytics/prod_writer/database", ["USAGE"]],
    ]);
    expect(ofType(T.grantPrivileges).filter((g) => g.name.endsWith("/warehouse")).map((g) => g.name)).toEqual([
      "CI_WH/ci_builder/warehouse", "DEV_WH/dev_alice/warehouse", "DEV_WH/dev_bob/warehouse", "DEV_WH/dev_carol/warehouse",
      "DEV_WH/dev_dave/warehouse", "DEV_WH/dev_erin/warehouse", "PROD_WH/prod_writer/warehouse",
    ]);
    expect(named(T.grantPrivileges, "PROD_WH/prod_writer/warehouse").inputs).toEqual({
      accountRoleName: '"PROD_WRITER"', privileges: ["USAGE"], onAccountObject: { objectType: "WAREHOUSE", objectName: '"PROD_WH"' },
    });
  });

  it("parents everything under the component, and prod schema grants under their ProdSchema", () => {
    const prodSchemas = new Set(boundary.schemas.filter((s) => s.kind === "prod").map((s) => s.name));
    for (const r of resources) {
      if (r.type === "warehouse-access:snowflake:Access") expect(r.parent).toBeUndefined();
      else if (r.type === T.schema && prodSchemas.has(r.name)) expect(r.parent?.name).toBe(r.name);
      else if (r.type === T.grantPrivileges && prodSchemas.has(r.name.split("/")[0]!)) expect(r.parent?.name).toBe(r.name.split("/")[0]);
      else expect(r.parent?.name).toBe("snowflake");
    }
  });
});

describe("Snowflake resources for other rosters", () => {
  const identity = (rs: DeclaredResource[]) =>
    rs.map((r) => JSON.stringify([r.type, r.name, r.parent?.name, r.protect, r.retainOnDelete, r.deleteBeforeReplace, r.dependsOn.map(keyOf), r.inputs])).sort();

  it("registers the identical resources when team.yaml is reordered", async () => {
    const file = parseYaml(rosterText) as object;
    for (const seed of [1, 7]) {
      const result = parseRoster(JSON.stringify(shuffled(file, seed)), "shuffled.yaml");
      expect(result.problems).toBeUndefined();
      const reordered = await declare(buildBoundary(result.roster!));
      expect(identity(reordered.resources)).toEqual(identity(resources));
    }
  });

  it.each([
    [1, 1, 0, 0],
    [5, 4, 1, 2],
    [12, 5, 1, 3],
    [20, 6, 2, 4],
  ])("stays within 2·D·M + 5·D + 10·M + 20 for %i developers and %i domains (%i restricted)", async (D, M, R, readers) => {
    const b = buildBoundary(rosterOfSize(D, M, R, readers));
    const { resources: made, component: access } = await declare(b);
    expect(made.length).toBe(formula(b).exact);
    expect(made.length).toBe(formula(b).closed);
    expect(access.resourceCount).toBe(made.length);
    expect(made.length).toBeLessThanOrEqual(budget(D, M));
    // Nothing per developer per prod schema: reads go through roles.
    expect(made.filter((r) => r.name.startsWith("prod_") && /dev_/.test(r.name))).toEqual([]);
    const reading = interpretSnowflakeAccess(made, { provisionerRole: ADMIN });
    expect(sorted(reading.access)).toEqual(expectedAccess(b));
    expect(reading.schemaCreation).toEqual(expectedCreation(b));
  });

  it("goes over the bound by one membership per reader of a restricted domain, and by CI's database USAGE when no domain is unrestricted", async () => {
    const D = 6, M = 3;
    const b = buildBoundary(rosterOfSize(D, M, M, D));
    const { resources: made } = await declare(b);
    const readerMemberships = made.filter((r) => r.type === T.grantAccountRole && /\/prod_domain\d+_reader$/.test(r.name)).length;
    expect(readerMemberships).toBe(D * M);
    expect(made.length).toBeGreaterThan(budget(D, M));
    // With no unrestricted domain CI inherits no database USAGE, and CREATE_CI_SCHEMA needs its own: one over the bound.
    expect(made.filter((r) => r.name === "analytics/ci_builder/database").map((r) => r.inputs.privileges)).toEqual([["USAGE"]]);
    expect(made.length - readerMemberships).toBe(budget(D, M) + 1);
  });

  it("reads back to the boundary for random valid rosters", async () => {
    await fc.assert(
      fc.asyncProperty(validRoster({ maxDevelopers: 4, maxDomains: 3, maxServiceAccounts: 2 }), async (roster) => {
        const b = buildBoundary(roster);
        const { resources: made, component: access } = await declare(b);
        const reading = interpretSnowflakeAccess(made, { provisionerRole: ADMIN });
        expect(sorted(reading.access)).toEqual(expectedAccess(b));
        expect(reading.partialReads).toEqual([]);
        expect(reading.schemaCreation).toEqual(expectedCreation(b));
        expect(access.resourceCount).toBe(made.length);
        expect(made.length).toBe(formula(b).exact);
        expect(made.length).toBeLessThanOrEqual(formula(b).closed);
        const keys = made.map((r) => `${r.type}::${r.name}`);
        expect(new Set(keys).size).toBe(keys.length);
        // D6 and D7 on what would be created: prod schemas managed, protected and the provisioner's; services key pair only.
        const prod = new Set(b.schemas.filter((s) => s.kind === "prod").map((s) => snowflakeName(s.name)));
        expect(reading.schemas.filter((s) => prod.has(s.schema)).every((s) => s.managedAccess && s.owner === ADMIN)).toBe(true);
        expect(made.filter((r) => r.type === T.schema && prod.has(r.inputs.name as string)).every((r) => r.protect)).toBe(true);
        expect(reading.users.every((u) => u.type === "SERVICE" && u.authenticationMethods?.join() === "KEYPAIR")).toBe(true);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
