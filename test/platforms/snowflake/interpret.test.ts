import { describe, expect, it } from "vitest";
import { CREATED_MARKER } from "../../../infra/ci/schema";
import { CI_SCHEMA_PROCEDURE_ARGUMENTS, ciSchemaCreatorOf, createCiSchemaBody, type CiSchemaProcedureSpec } from "../../../infra/platforms/snowflake/ci-schemas";
import { identifierParts, quoted } from "../../../infra/platforms/snowflake/identifiers";
import { ANY_SCHEMA_NAME, interpretSnowflakeAccess, SNOWFLAKE_TYPES as T } from "../../../infra/platforms/snowflake/interpret";

// The interpreter on hand-written resources: what the policy pack and the audit will feed it, beyond what we generate.

type Resource = { type: string; inputs: Record<string, unknown> };
const SALES = quoted("ANALYTICS", "PROD_SALES");

/** A small stack: a managed prod schema read by PROD_READER, written by PROD_WRITER; ALICE reads, SVC_PROD writes. */
const base = (): Resource[] => [
  { type: T.schema, inputs: { name: "PROD_SALES", database: "ANALYTICS", withManagedAccess: "true" } },
  { type: T.accountRole, inputs: { name: "PROD_READER" } },
  { type: T.accountRole, inputs: { name: "PROD_WRITER" } },
  { type: T.accountRole, inputs: { name: "DEV_ALICE" } },
  { type: T.grantPrivileges, inputs: { accountRoleName: '"PROD_READER"', privileges: ["USAGE"], onAccountObject: { objectType: "DATABASE", objectName: '"ANALYTICS"' } } },
  { type: T.grantPrivileges, inputs: { accountRoleName: '"PROD_READER"', privileges: ["USAGE"], onSchema: { schemaName: SALES } } },
  ...(["all", "future"] as const).flatMap((scope) =>
    ["TABLES", "VIEWS"].map((kind) => ({
      type: T.grantPrivileges,
      inputs: { accountRoleName: '"PROD_READER"', privileges: ["SELECT"], onSchemaObject: { [scope]: { objectTypePlural: kind, inSchema: SALES } } },
    })),
  ),
  { type: T.grantPrivileges, inputs: { accountRoleName: '"PROD_WRITER"', privileges: ["USAGE", "CREATE TABLE"], onSchema: { schemaName: SALES } } },
  { type: T.grantAccountRole, inputs: { roleName: '"DEV_ALICE"', userName: '"ALICE"' } },
  { type: T.grantAccountRole, inputs: { roleName: '"PROD_READER"', parentRoleName: '"DEV_ALICE"' } },
  { type: T.grantAccountRole, inputs: { roleName: '"PROD_WRITER"', userName: '"SVC_PROD"' } },
];
const read = (resources: Resource[]) => interpretSnowflakeAccess(resources, { provisionerRole: "SYSADMIN" });
const accessOf = (resources: Resource[], holder: string) =>
  read(resources).access.filter((a) => a.holder === holder).map((a) => `${a.schema}:${a.access}`);

describe("interpretSnowflakeAccess", () => {
  it("reads the small stack: the reader reads, the writer writes, the provisioner owns", () => {
    expect(accessOf(base(), "ALICE")).toEqual(["PROD_SALES:read"]);
    expect(accessOf(base(), "SVC_PROD")).toEqual(["PROD_SALES:write"]);
    expect(read(base()).schemas).toEqual([{ database: "ANALYTICS", schema: "PROD_SALES", owner: "SYSADMIN", managedAccess: true }]);
    expect(read(base()).adminAccess.map((a) => `${a.schema}:${a.access}`)).toEqual(["PROD_SALES:write"]);
  });

  it("counts DML on future tables as write", () => {
    const extra = { type: T.grantPrivileges, inputs: { accountRoleName: '"DEV_ALICE"', privileges: ["INSERT"], onSchemaObject: { future: { objectTypePlural: "TABLES", inSchema: SALES } } } };
    expect(accessOf([...base(), extra], "ALICE")).toEqual(["PROD_SALES:write"]);
  });

  it("counts ownership of the schema, of a role that writes, and MANAGE GRANTS as write", () => {
    const schemaOwner = { type: T.grantOwnership, inputs: { accountRoleName: '"DEV_ALICE"', on: { objectType: "SCHEMA", objectName: SALES } } };
    expect(accessOf([...base(), schemaOwner], "ALICE")).toEqual(["PROD_SALES:write"]);
    expect(read([...base(), schemaOwner]).schemas[0]?.owner).toBe("DEV_ALICE");
    const roleOwner = { type: T.grantOwnership, inputs: { accountRoleName: '"DEV_ALICE"', on: { objectType: "ROLE", objectName: '"PROD_WRITER"' } } };
    expect(accessOf([...base(), roleOwner], "ALICE")).toEqual(["PROD_SALES:write"]);
    const manageGrants = { type: T.grantPrivileges, inputs: { accountRoleName: '"DEV_ALICE"', privileges: ["MANAGE GRANTS"], onAccount: true } };
    expect(accessOf([...base(), manageGrants], "ALICE")).toEqual(["PROD_SALES:write"]);
  });

  it("needs database USAGE, schema USAGE and SELECT on all and future tables and views for read", () => {
    const without = (match: (r: Resource) => boolean) => base().filter((r) => !match(r));
    expect(accessOf(without((r) => (r.inputs.onAccountObject as { objectType?: string } | undefined)?.objectType === "DATABASE"), "ALICE")).toEqual([]);
    const noFutureViews = without((r) => JSON.stringify(r.inputs.onSchemaObject ?? {}).includes('"future":{"objectTypePlural":"VIEWS"'));
    expect(accessOf(noFutureViews, "ALICE")).toEqual([]);
    expect(read(noFutureViews).partialReads.map((a) => `${a.holder}:${a.schema}`)).toEqual(["ALICE:PROD_SALES"]);
  });

  it("ignores a database's future grants where the schema has its own for that kind, as Snowflake does", () => {
    const schemaLevelFutureTables = (r: Resource) => JSON.stringify(r.inputs.onSchemaObject ?? {}).includes('"future":{"objectTypePlural":"TABLES"');
    const databaseLevel = { type: T.grantPrivileges, inputs: { accountRoleName: '"PROD_READER"', privileges: ["SELECT"], onSchemaObject: { future: { objectTypePlural: "TABLES", inDatabase: '"ANALYTICS"' } } } };
    const onlyDatabaseLevel = [...base().filter((r) => !schemaLevelFutureTables(r)), databaseLevel];
    expect(accessOf(onlyDatabaseLevel, "ALICE")).toEqual(["PROD_SALES:read"]);
    const writerHasSchemaLevel = { type: T.grantPrivileges, inputs: { accountRoleName: '"PROD_WRITER"', privileges: ["SELECT"], onSchemaObject: { future: { objectTypePlural: "TABLES", inSchema: SALES } } } };
    expect(accessOf([...onlyDatabaseLevel, writerHasSchemaLevel], "ALICE")).toEqual([]);
  });

  it("keeps identifiers' case as the provider does: an unquoted lower-case name is another schema", () => {
    expect(identifierParts("analytics.prod_sales")).toEqual(["analytics", "prod_sales"]);
    expect(identifierParts('"ANALYTICS"."CAROL.DIAZ@ACME.EXAMPLE"')).toEqual(["ANALYTICS", "CAROL.DIAZ@ACME.EXAMPLE"]);
    const lower = { type: T.grantPrivileges, inputs: { accountRoleName: '"DEV_ALICE"', privileges: ["CREATE TABLE"], onSchema: { schemaName: "analytics.prod_sales" } } };
    expect(accessOf([...base(), lower], "ALICE")).toEqual(["PROD_SALES:read", "prod_sales:write"]);
  });

  it("reports users' type, key and attached authentication methods", () => {
    const resources: Resource[] = [
      { type: T.serviceUser, inputs: { name: "SVC_PROD", rsaPublicKey: "MIIB", defaultRole: "PROD_WRITER" } },
      { type: T.user, inputs: { name: "BOB", password: "hunter2" } },
      { type: T.authenticationPolicy, inputs: { database: "ANALYTICS", schema: "GOVERNANCE", name: "KEYPAIR_ONLY", authenticationMethods: ["KEYPAIR"] } },
      { type: T.userAuthenticationPolicy, inputs: { userName: '"SVC_PROD"', authenticationPolicyName: quoted("ANALYTICS", "GOVERNANCE", "KEYPAIR_ONLY") } },
    ];
    expect(read(resources).users).toEqual([
      { user: "BOB", type: "PERSON", hasRsaPublicKey: false, hasPassword: true },
      { user: "SVC_PROD", type: "SERVICE", defaultRole: "PROD_WRITER", hasRsaPublicKey: true, hasPassword: false, authenticationMethods: ["KEYPAIR"] },
    ]);
  });
});

/** CREATE_CI_SCHEMA's body for the test account, or with parts changed. */
const ciBody = (spec: Partial<CiSchemaProcedureSpec> = {}): string =>
  createCiSchemaBody({ database: "ANALYTICS", creator: "CI_BUILDER", owner: "SYSADMIN", marker: CREATED_MARKER, domains: ["SALES"], restricted: ["FINANCE"], copies: [], ...spec });

describe("interpretSnowflakeAccess: schema creation and procedures", () => {
  const GOVERNANCE = quoted("ANALYTICS", "GOVERNANCE");
  const PROCEDURE = `${quoted("ANALYTICS", "GOVERNANCE", "CREATE_CI_SCHEMA")}(VARCHAR, VARCHAR)`;
  const procedure = (inputs: Record<string, unknown> = {}): Resource => ({
    type: T.procedureSql,
    inputs: {
      database: "ANALYTICS", schema: "GOVERNANCE", name: "CREATE_CI_SCHEMA", executeAs: "OWNER", returnType: "VARCHAR",
      arguments: CI_SCHEMA_PROCEDURE_ARGUMENTS.map((a) => ({ ...a })),
      procedureDefinition: ciBody(),
      ...inputs,
    },
  });
  /** The small stack plus CI as the program makes it: database USAGE, USAGE on GOVERNANCE and on the procedure. */
  const withCi = (...extra: Resource[]): Resource[] => [
    ...base(),
    { type: T.accountRole, inputs: { name: "CI_BUILDER" } },
    { type: T.grantAccountRole, inputs: { roleName: '"CI_BUILDER"', userName: '"SVC_CI"' } },
    { type: T.grantPrivileges, inputs: { accountRoleName: '"CI_BUILDER"', privileges: ["USAGE"], onAccountObject: { objectType: "DATABASE", objectName: '"ANALYTICS"' } } },
    { type: T.grantPrivileges, inputs: { accountRoleName: '"CI_BUILDER"', privileges: ["USAGE"], onSchema: { schemaName: GOVERNANCE } } },
    { type: T.grantPrivileges, inputs: { accountRoleName: '"CI_BUILDER"', privileges: ["USAGE"], onSchemaObject: { objectType: "PROCEDURE", objectName: PROCEDURE } } },
    procedure(),
    ...extra,
  ];
  const ciCreates = { holder: "SVC_CI", database: "ANALYTICS", names: "CI_<RUN>_<DOMAIN>", owner: "CI_BUILDER", via: PROCEDURE };

  it("reads CREATE_CI_SCHEMA's callers as creating CI_<RUN>_<DOMAIN> for its role, and nothing of its owner's rights", () => {
    expect(read(withCi()).schemaCreation).toEqual([ciCreates]);
    expect(accessOf(withCi(), "SVC_CI")).toEqual([]);
    expect(read(base()).schemaCreation).toEqual([]);
  });

  it("recognises the body whatever its whitespace (the provider compares it with whitespace folded), and names the procedure by the grant's spelling", () => {
    const folded = procedure({ procedureDefinition: ciBody().replace(/\s+/g, " ") });
    expect(read([...withCi().filter((r) => r.type !== T.procedureSql), folded]).schemaCreation).toEqual([ciCreates]);
    const spelled = withCi().map((r) => (JSON.stringify(r.inputs).includes("PROCEDURE") && r.type === T.grantPrivileges
      ? { ...r, inputs: { ...r.inputs, onSchemaObject: { objectType: "PROCEDURE", objectName: "ANALYTICS.GOVERNANCE.CREATE_CI_SCHEMA(varchar(100), string)" } } }
      : r));
    expect(read(spelled).schemaCreation).toEqual([ciCreates]);
  });

  it("needs USAGE on the procedure's database and schema too, as CALL does", () => {
    const without = (match: (r: Resource) => boolean) => withCi().filter((r) => !match(r));
    expect(read(without((r) => JSON.stringify(r.inputs).includes(`"schemaName":${JSON.stringify(GOVERNANCE)}`))).schemaCreation).toEqual([]);
    expect(read(without((r) => r.inputs.accountRoleName === '"CI_BUILDER"' && r.inputs.onAccountObject !== undefined)).schemaCreation).toEqual([]);
    const allProcedures = { type: T.grantPrivileges, inputs: { accountRoleName: '"CI_BUILDER"', privileges: ["USAGE"], onSchemaObject: { all: { objectTypePlural: "PROCEDURES", inSchema: GOVERNANCE } } } };
    expect(read([...without((r) => r.inputs.onSchemaObject !== undefined && r.inputs.accountRoleName === '"CI_BUILDER"'), allProcedures]).schemaCreation).toEqual([ciCreates]);
  });

  it("reads CREATE SCHEMA on the database, ALL on it, its ownership and MANAGE GRANTS as creating schemas of any name", () => {
    const expected = [{ holder: "SVC_CI", database: "ANALYTICS", names: ANY_SCHEMA_NAME, via: 'CREATE SCHEMA on database "ANALYTICS"' }, ciCreates];
    for (const extra of [
      { type: T.grantPrivileges, inputs: { accountRoleName: '"CI_BUILDER"', privileges: ["CREATE SCHEMA"], onAccountObject: { objectType: "DATABASE", objectName: '"ANALYTICS"' } } },
      { type: T.grantPrivileges, inputs: { accountRoleName: '"CI_BUILDER"', allPrivileges: true, onAccountObject: { objectType: "DATABASE", objectName: '"ANALYTICS"' } } },
      { type: T.grantOwnership, inputs: { accountRoleName: '"CI_BUILDER"', on: { objectType: "DATABASE", objectName: '"ANALYTICS"' } } },
      { type: T.grantPrivileges, inputs: { accountRoleName: '"CI_BUILDER"', privileges: ["MANAGE GRANTS"], onAccount: true } },
    ]) expect(read(withCi(extra)).schemaCreation).toEqual(expected);
  });

  it("reads any other owner's-rights procedure as acting with its owner's rights: a changed body makes its callers the provisioner", () => {
    const prodPrefix = procedure({ procedureDefinition: ciBody().replaceAll("'CI_'", "'PROD_'") });
    const tampered = [...withCi().filter((r) => r.type !== T.procedureSql), prodPrefix];
    expect(read(tampered).schemaCreation).toEqual([]);
    expect(accessOf(tampered, "SVC_CI")).toEqual(["PROD_SALES:write"]);
    // Another owner: its callers act as that role, here the writer (which, owning the procedure, also writes GOVERNANCE).
    const ownedByWriter = { type: T.grantOwnership, inputs: { accountRoleName: '"PROD_WRITER"', on: { objectType: "PROCEDURE", objectName: PROCEDURE } } };
    expect(accessOf([...tampered, ownedByWriter], "SVC_CI")).toEqual(["GOVERNANCE:write", "PROD_SALES:write"]);
    expect(accessOf([...tampered, ownedByWriter], "ALICE")).toEqual(["PROD_SALES:read"]);
    // Caller's rights: the procedure can do only what its caller can.
    const asCaller = [...withCi().filter((r) => r.type !== T.procedureSql), { ...prodPrefix, inputs: { ...prodPrefix.inputs, executeAs: "CALLER" } }];
    expect(accessOf(asCaller, "SVC_CI")).toEqual([]);
    expect(read(asCaller).schemaCreation).toEqual([]);
  });

  it("recognises only CREATE_CI_SCHEMA's exact body, for the procedure's own database", () => {
    const body = ciBody();
    const of = (definition: string, database = "ANALYTICS", argumentTypes = ["VARCHAR", "VARCHAR"]) => ciSchemaCreatorOf({ database, definition, argumentTypes });
    expect(of(body)).toBe("CI_BUILDER");
    expect(of(ciBody({ creator: "DEV_ALICE" }))).toBe("DEV_ALICE");
    expect(of(body, "OTHER")).toBeUndefined();
    expect(of(body, "ANALYTICS", ["VARCHAR"])).toBeUndefined();
    expect(of(body.replace("RAISE unknown_domain;", "NULL;"))).toBeUndefined();
    expect(of(`${body} SELECT 1;`)).toBeUndefined();
    expect(() => ciBody({ marker: "x'; DROP SCHEMA PROD_SALES; --=" })).toThrow(RangeError);
    expect(() => ciBody({ database: "analytics" })).toThrow(RangeError);
    expect(() => ciBody({ domains: ["SALES'); DROP SCHEMA PROD_SALES; --"] })).toThrow(RangeError);
    // Every part of the spec is recognised: another owner, other domains, another restricted list.
    expect(of(ciBody({ owner: "WAREHOUSE_PROVISIONER", domains: ["SALES", "MARKETING"], restricted: ["FINANCE"] }))).toBe("CI_BUILDER");
    expect(of(ciBody({ restricted: [] }).replace("ARRAY_CONSTRUCT('SALES')", "ARRAY_CONSTRUCT('SALES', 'FINANCE')"))).toBe("CI_BUILDER");
    // And the restricted copies CI reads, with the privileges it gets on them.
    expect(of(ciBody({ domains: ["SALES", "FINANCE"], restricted: [], copies: ["FINANCE"] }))).toBe("CI_BUILDER");
    expect(of(ciBody({ domains: ["SALES", "FINANCE"], restricted: [], copies: ["FINANCE"] }).replace("'GRANT USAGE, CREATE TABLE,", "'GRANT OWNERSHIP, USAGE, CREATE TABLE,"))).toBeUndefined();
  });
});
