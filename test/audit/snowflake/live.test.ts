import { beforeAll, describe, expect, it } from "vitest";
import { auditSnowflakeLive, type SnowflakeLiveAudit, type SnowflakeWritePath } from "../../../infra/audit/snowflake/audit";
import { runSnowflakeLiveAudit } from "../../../infra/audit/snowflake/command";
import { renderSnowflakeLiveAudit, snowflakeLiveAuditReport } from "../../../infra/audit/snowflake/report";
import { sessionOf } from "../../../infra/audit/snowflake/session";
import { declareResources, type DeclaredResource } from "../../../infra/platforms/declare";
import { snowflakeName } from "../../../infra/roster/naming";
import { REPO_ROOT, shippedBoundary, shippedSettings } from "../../support/shipped";
import { FakeSnowflakeAccount } from "./fake-account";
import { deployedAccount as deployed } from "./readme-output";

// The live Snowflake audit against an account holding the program's own resources for the shipped roster (applied as
// the provider would, with prod tables made by PROD_WRITER): clean, only declared writers and admin paths; every kind
// of write path planted by hand is found, with its chain, and is DRIFT; a result of another shape is refused.

const boundary = shippedBoundary();
const settings = { ...shippedSettings(), platforms: ["snowflake" as const] };
const DATABASE = snowflakeName(settings.database);
const PROD = boundary.schemas.filter((s) => s.kind === "prod").map((s) => snowflakeName(s.name));
const STACK_FILE = `${REPO_ROOT}/Pulumi.prod.yaml`;
const ADMIN = settings.snowflake!.adminRole;
const OPTIONS = { adminRole: ADMIN, provisionerRole: ADMIN };
let resources: DeclaredResource[];

beforeAll(async () => {
  resources = (await declareResources(boundary, settings)).filter((r) => r.custom);
}, 60_000);

/** The account `pulumi up` leaves, after a production run made two tables in every prod schema. */
const deployedAccount = (): FakeSnowflakeAccount => deployed(boundary, resources, ADMIN);

const audit = (account: FakeSnowflakeAccount): Promise<SnowflakeLiveAudit> =>
  auditSnowflakeLive(sessionOf(account.connection()), boundary, DATABASE, OPTIONS);

const drift = (result: SnowflakeLiveAudit): SnowflakeWritePath[] => result.schemas.flatMap((s) => s.writers.filter((w) => w.status === "drift"));

describe("a deployed account, untouched", () => {
  it("has no drift: only declared writers and admin paths can write prod", async () => {
    const result = await audit(deployedAccount());
    expect(drift(result)).toEqual([]);
    expect(result.drift).toBe(0);
    expect(result.schemas.map((s) => s.schema).sort()).toEqual([...PROD].sort());
  });

  it("shows the prod service user writing every prod schema through PROD_WRITER, declared", async () => {
    const result = await audit(deployedAccount());
    for (const s of result.schemas) {
      const svc = s.writers.filter((w) => w.principal === "SVC_PROD");
      expect(svc.map((w) => w.chain.join(">"))).toContain("SVC_PROD>PROD_WRITER");
      expect(svc.every((w) => w.status === "declared")).toBe(true);
      expect(svc.map((w) => w.power)).toEqual(expect.arrayContaining(["schema privilege", "object owner"]));
    }
  });

  it("labels the roll-up to the provisioner's role, the account's admin roles and the people who hold them, admin", async () => {
    const result = await audit(deployedAccount());
    const sales = result.schemas.find((s) => s.schema === "PROD_SALES")!;
    const admin = sales.writers.filter((w) => w.status === "admin");
    const chains = admin.map((w) => w.chain.join(">"));
    expect(chains).toEqual(expect.arrayContaining([
      `${ADMIN}>PROD_WRITER`, `PULUMI_PROVISIONER>${ADMIN}>PROD_WRITER`, `PULUMI_PROVISIONER>${ADMIN}`,
      // SYSADMIN owns the database (the README's SQL grants from it), SECURITYADMIN holds MANAGE GRANTS.
      "SYSADMIN", "ACCOUNTADMIN>SYSADMIN", "ADMIN_JANE>ACCOUNTADMIN>SECURITYADMIN",
    ]));
    expect(new Set(admin.filter((w) => w.chain[0] === ADMIN).map((w) => w.power))).toEqual(new Set(["schema owner", "CREATE SCHEMA on database", "schema privilege", "object owner"]));
    // A dedicated role: no system role holds PROD_WRITER or the provisioner's role.
    expect(chains.filter((c) => /(SYSADMIN|ACCOUNTADMIN)>(PROD_WRITER|WAREHOUSE_PROVISIONER)/.test(c))).toEqual([]);
    expect(sales.writers.find((w) => w.principal === "ADMIN_JANE")!.reach).toBe("secondary roles");
    expect(sales.writers.find((w) => w.principal === "PULUMI_PROVISIONER")!.reach).toBe("USE ROLE");
  });

  it("still labels the roll-up admin for a stack whose provisioner role is SYSADMIN (deployed before the dedicated role)", async () => {
    const legacy = (await declareResources(boundary, { ...settings, snowflake: { ...settings.snowflake!, adminRole: "SYSADMIN" } })).filter((r) => r.custom);
    const result = await auditSnowflakeLive(sessionOf(deployed(boundary, legacy, "SYSADMIN").connection()), boundary, DATABASE, { adminRole: "SYSADMIN", provisionerRole: "SYSADMIN" });
    expect(drift(result)).toEqual([]);
    const chains = result.schemas.find((s) => s.schema === "PROD_SALES")!.writers.filter((w) => w.status === "admin").map((w) => w.chain.join(">"));
    expect(chains).toEqual(expect.arrayContaining(["SYSADMIN>PROD_WRITER", "ACCOUNTADMIN>SYSADMIN>PROD_WRITER", "ADMIN_JANE>ACCOUNTADMIN>SYSADMIN>PROD_WRITER"]));
  });

  it("issues 2S + 7 statements however many roles, users and tables the account has", async () => {
    const small = deployedAccount();
    await audit(small);
    const big = deployedAccount();
    for (let i = 0; i < 50; i++) {
      big.grantRole(`EXTRA_${i}`, "ROLE", "SYSADMIN");
      big.createTable("PROD_SALES", `T${i}`, "PROD_WRITER");
    }
    const result = await audit(big);
    expect(small.statements).toHaveLength(2 * PROD.length + 7);
    expect(big.statements).toHaveLength(small.statements.length);
    expect(result.statements).toBe(2 * PROD.length + 7);
    expect(result.schemas.find((s) => s.schema === "PROD_SALES")!.writers.find((w) => w.power === "object owner" && w.principal === "PROD_WRITER")!.objectCount).toBe(52);
  });
});

describe("every kind of write path planted by hand is DRIFT", () => {
  const plants: [string, (a: FakeSnowflakeAccount) => void, Partial<SnowflakeWritePath>][] = [
    ["a role owning a prod schema", (a) => { a.schemas.find((s) => s.name === "PROD_SALES")!.owner = "DEV_ALICE"; },
      { schema: "PROD_SALES", principal: "DEV_ALICE", power: "schema owner" }],
    ["a developer role owning a table in a prod schema", (a) => { a.createTable("PROD_MARKETING", "HOTFIX", "DEV_BOB"); },
      { schema: "PROD_MARKETING", principal: "DEV_BOB", power: "object owner", objects: ["table HOTFIX"] }],
    ["CREATE on a prod schema for the CI role", (a) => { a.grants.push({ privilege: "CREATE VIEW", grantedOn: "SCHEMA", name: "PROD_PRODUCT", catalog: DATABASE, schema: null, grantedTo: "ROLE", grantee: "CI_BUILDER" }); },
      { schema: "PROD_PRODUCT", principal: "CI_BUILDER", power: "schema privilege", privilege: "CREATE VIEW" }],
    ...(["INSERT", "UPDATE", "DELETE", "TRUNCATE"] as const).map((privilege): [string, (a: FakeSnowflakeAccount) => void, Partial<SnowflakeWritePath>] => [
      `${privilege} on prod tables for the reader role`,
      (a) => { for (const t of ["ORDERS", "CUSTOMERS"]) a.grants.push({ privilege, grantedOn: "TABLE", name: t, catalog: DATABASE, schema: "PROD_SALES", grantedTo: "ROLE", grantee: "PROD_READER" }); },
      { schema: "PROD_SALES", principal: "PROD_READER", power: "object privilege", privilege, objectCount: 2, source: "ACCOUNT_USAGE" }]),
    ["a schema-level future INSERT", (a) => { a.futureGrants.push({ database: DATABASE, schema: "PROD_SALES", privilege: "INSERT", grantOn: "TABLE", grantTo: "ROLE", grantee: "DEV_ALICE" }); },
      { schema: "PROD_SALES", principal: "DEV_ALICE", power: "future grant (schema)", objects: ["future TABLEs"] }],
    ["a database-level future grant on a kind no schema-level one overrides", (a) => { a.futureGrants.push({ database: DATABASE, privilege: "OWNERSHIP", grantOn: "PROCEDURE", grantTo: "ROLE", grantee: "DEV_DAVE" }); },
      { schema: "PROD_FINANCE", principal: "DEV_DAVE", power: "future grant (database)", objects: ["future PROCEDUREs"] }],
    ["MANAGE GRANTS held by a custom role", (a) => { a.grants.push({ privilege: "MANAGE GRANTS", grantedOn: "ACCOUNT", name: "ACME", catalog: null, schema: null, grantedTo: "ROLE", grantee: "GRANT_ADMIN" }); a.grantRole("GRANT_ADMIN", "USER", "MALLORY"); },
      { principal: "MALLORY", power: "MANAGE GRANTS", chain: ["MALLORY", "GRANT_ADMIN"] }],
    ["CREATE SCHEMA on the database for the CI role", (a) => { a.grants.push({ privilege: "CREATE SCHEMA", grantedOn: "DATABASE", name: DATABASE, catalog: null, schema: null, grantedTo: "ROLE", grantee: "CI_BUILDER" }); },
      { principal: "CI_BUILDER", power: "CREATE SCHEMA on database" }],
    ["a database role with INSERT, granted to a developer role", (a) => {
      a.grants.push({ privilege: "INSERT", grantedOn: "TABLE", name: "ORDERS", catalog: DATABASE, schema: "PROD_FINANCE", grantedTo: "DATABASE_ROLE", grantee: "LOADER" });
      a.grantDatabaseRole("LOADER", "ROLE", "DEV_ERIN");
    }, { schema: "PROD_FINANCE", principal: "ERIN", chain: ["ERIN", "DEV_ERIN", `DATABASE ROLE ${DATABASE}.LOADER`], power: "object privilege", reach: "secondary roles" }],
    ["PROD_WRITER granted to a developer", (a) => { a.grantRole("PROD_WRITER", "USER", "BOB"); },
      { schema: "PROD_SALES", principal: "BOB", chain: ["BOB", "PROD_WRITER"], reach: "secondary roles" }],
    ["PROD_WRITER rolled up to SYSADMIN by hand", (a) => { a.grantRole("PROD_WRITER", "ROLE", "SYSADMIN"); },
      { schema: "PROD_SALES", principal: "SYSADMIN", chain: ["SYSADMIN", "PROD_WRITER"], because: "SYSADMIN holds PROD_WRITER, which the stack grants to no system role: every SYSADMIN holder gains it" }],
    ["the provisioner's role granted to SYSADMIN", (a) => { a.grantRole(ADMIN, "ROLE", "SYSADMIN"); },
      { schema: "PROD_SALES", principal: "ADMIN_JANE", chain: ["ADMIN_JANE", "ACCOUNTADMIN", "SYSADMIN", ADMIN, "PROD_WRITER"] }],
    ["INSERT granted to PUBLIC", (a) => { a.grants.push({ privilege: "INSERT", grantedOn: "TABLE", name: "ORDERS", catalog: DATABASE, schema: "PROD_SALES", grantedTo: "ROLE", grantee: "PUBLIC" }); },
      { schema: "PROD_SALES", principal: "PUBLIC", principalKind: "everyone", because: "PUBLIC holds it: every user can" }],
  ];

  it.each(plants)("%s", async (_what, plant, expected) => {
    const account = deployedAccount();
    plant(account);
    const result = await audit(account);
    expect(drift(result)).toContainEqual(expect.objectContaining({ ...expected, status: "drift" }));
    expect(result.drift).toBeGreaterThan(0);
  });

  it("ignores a database-level future grant that a schema-level one on the same kind overrides", async () => {
    const account = deployedAccount();
    account.futureGrants.push({ database: DATABASE, privilege: "INSERT", grantOn: "TABLE", grantTo: "ROLE", grantee: "DEV_DAVE" });
    expect(drift(await audit(account))).toEqual([]);
  });

  it("finds an undeclared prod schema, a missing one, and one without managed access", async () => {
    const account = deployedAccount();
    account.schemas.push({ database: DATABASE, name: "PROD_LEGACY", owner: "SYSADMIN", managedAccess: true }, { database: DATABASE, name: "prod_sales", owner: "DEV_BOB", managedAccess: false });
    account.schemas = account.schemas.filter((s) => s.name !== "PROD_PRODUCT");
    account.schemas.find((s) => s.name === "PROD_MARKETING")!.managedAccess = false;
    const result = await audit(account);
    expect(result.undeclaredSchemas).toEqual(["PROD_LEGACY", "prod_sales"]);
    expect(result.missingSchemas).toEqual(["PROD_PRODUCT"]);
    expect(result.unmanagedSchemas).toEqual(["PROD_MARKETING"]);
    expect(drift(result)).toContainEqual(expect.objectContaining({ schema: "prod_sales", principal: "DEV_BOB", power: "schema owner" }));
  });

  it("reports drift in words, with the chain and how fresh each fact is", async () => {
    const account = deployedAccount();
    account.grantRole("PROD_WRITER", "USER", "BOB");
    const text = renderSnowflakeLiveAudit(snowflakeLiveAuditReport(await audit(account), []));
    expect(text).toContain(`Read in ${2 * PROD.length + 7} statements: 2S + 7`);
    expect(text).toContain("SNOWFLAKE.ACCOUNT_USAGE (up to 120 minutes behind)");
    expect(text).toMatch(/DRIFT\s+BOB\s+user\s+BOB → PROD_WRITER \(secondary roles: always active\)\s+CREATE TABLE, VIEW, .*STREAM on the schema; owns 2 objects \(table CUSTOMERS, table ORDERS\) \[account usage\]\s+not in the boundary/);
    expect(text).toMatch(/DRIFT: \d+ write paths the boundary does not declare, for 1 role or user on 4 prod schemas: BOB/);
  });
});

describe("a result of a shape the audit does not know is refused, not read as nothing", () => {
  const reshapes: [string, (sql: string, r: { columns: { name: string; type: string }[]; rows: Record<string, unknown>[] }) => typeof r, RegExp][] = [
    ["future grants with granted_on in place of grant_on", (sql, r) => sql.startsWith("SHOW FUTURE GRANTS")
      ? { columns: r.columns.map((c) => (c.name === "grant_on" ? { ...c, name: "granted_on" } : c)), rows: r.rows.map(({ grant_on, ...rest }) => ({ ...rest, granted_on: grant_on })) } : r,
      /SHOW FUTURE GRANTS IN .*no column grant_on/],
    ["SHOW GRANTS without grantee_name", (sql, r) => sql.startsWith("SHOW GRANTS ON SCHEMA") ? { ...r, columns: r.columns.filter((c) => c.name !== "grantee_name") } : r,
      /SHOW GRANTS ON SCHEMA .*no column grantee_name/],
    ["ACCOUNT_USAGE columns in lower case", (sql, r) => sql.includes("GRANTS_TO_USERS") ? { columns: r.columns.map((c) => ({ ...c, name: c.name.toLowerCase() })), rows: r.rows } : r,
      /GRANTS_TO_USERS.*no column ROLE, GRANTED_TO, GRANTEE_NAME/],
    ["an object count as text", (sql, r) => sql.includes("COUNT(*)") ? { ...r, columns: r.columns.map((c) => (c.name === "OBJECT_COUNT" ? { ...c, type: "text" } : c)) } : r,
      /column OBJECT_COUNT is text, expected fixed/],
    ["a sample of names that is not an array", (sql, r) => sql.includes("COUNT(*)") ? { ...r, rows: r.rows.map((row) => ({ ...row, SOME_NAMES: "ORDERS" })) } : r,
      /row 1 has SOME_NAMES = "ORDERS", not a array/],
  ];

  it.each(reshapes)("%s", async (_what, reshape, message) => {
    const account = deployedAccount();
    account.reshape = reshape;
    await expect(audit(account)).rejects.toThrow(message);
  });
});

describe("audit --live snowflake, the command", () => {
  /** Runs the command's action with the account as its connection; returns exit code, stdout and stderr. */
  async function run(account: FakeSnowflakeAccount, json = false): Promise<{ code: number | undefined; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string) => (out.push(chunk), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => (err.push(chunk), true)) as typeof process.stderr.write;
    const before = process.exitCode;
    process.exitCode = undefined;
    try {
      await runSnowflakeLiveAudit({ roster: "team.yaml", stackConfig: STACK_FILE, ...(json ? { json } : {}) }, boundary, [], async () => sessionOf(account.connection()));
      return { code: process.exitCode as number | undefined, out: out.join(""), err: err.join("") };
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
      process.exitCode = before;
    }
  }

  it("exits 0 on a clean account and 1 on drift, with the same report as JSON", async () => {
    expect((await run(deployedAccount())).code).toBe(0);
    const drifted = deployedAccount();
    drifted.grantRole("PROD_WRITER", "USER", "BOB");
    const { code, out } = await run(drifted, true);
    expect(code).toBe(1);
    const report = JSON.parse(out) as SnowflakeLiveAudit;
    expect(report.platform).toBe("snowflake");
    expect(report.schemas.flatMap((s) => s.writers).filter((w) => w.status === "drift").map((w) => w.principal)).toContain("BOB");
  });

  it("exits 2 with one line when Snowflake answers in a shape it does not know", async () => {
    const account = deployedAccount();
    account.reshape = (sql, r) => (sql === "SHOW USERS" ? { ...r, columns: r.columns.filter((c) => c.name !== "default_secondary_roles") } : r);
    const { code, out, err } = await run(account);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toMatch(/^audit --live snowflake: reading the account: SHOW USERS: no column default_secondary_roles/);
  });
});
