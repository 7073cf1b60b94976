import { describe, expect, it } from "vitest";
import { identifierParts, quoted } from "../../../infra/platforms/snowflake/identifiers";
import { interpretSnowflakeAccess, SNOWFLAKE_TYPES as T } from "../../../infra/platforms/snowflake/interpret";

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
