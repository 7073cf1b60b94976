import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import { loadRoster } from "../../infra/roster/load";
import { declareResources, type DeclaredResource } from "../../infra/platforms/declare";
import { functionCreateStatements, RESOURCE_TYPES } from "../../infra/sandbox/apply";
import { CI_FUNCTION_ABUSES, DATABASE, DATABASE_ACTIONS, renderMatrix, runAttacks, SCHEMA_ACTIONS, type AttackMatrix } from "../../infra/sandbox/attacks";
import { HIJACK_ACTIONS } from "../../infra/sandbox/hijacks";
import { PUBLIC_PROBE, Sandbox, type Seeded } from "../../infra/sandbox/setup";
import { REPO_ROOT } from "../support/shipped";
import { sandboxSettings, shippedProvider } from "./support";

// The shipped roster's boundary, attacked on a real PostgreSQL from every principal: the suite fails on any outcome
// the boundary does not predict, and on a matrix of the wrong shape.

const boundary = buildBoundary(loadRoster(`${REPO_ROOT}/team.yaml`));
const settings = sandboxSettings();
let sandbox: Sandbox;
let seeded: Seeded;
let attacker: pg.Client;
let matrix: AttackMatrix;
let resources: DeclaredResource[];

beforeAll(async () => {
  resources = declareResources(boundary, settings);
  sandbox = await Sandbox.start(settings.database, shippedProvider());
  await sandbox.up(resources);
  seeded = await sandbox.seed(boundary);
  attacker = await sandbox.server.client(settings.database);
  matrix = await runAttacks({ client: attacker, boundary, tables: seeded.tables, publicProbe: PUBLIC_PROBE, loginAs: sandbox.sessionsFor(seeded), ciSchema: seeded.ciSchema!.name });
  console.log(renderMatrix(matrix));
}, 120_000);

afterAll(async () => {
  await attacker?.end();
  await sandbox?.stop();
});

const outcome = (principal: string, target: string, action: string) =>
  matrix.attempts.find((a) => a.principal === principal && a.target === target && a.action === action)?.actual;

describe("the attack suite on the shipped roster", () => {
  it("has every principal try every action on every schema, once", () => {
    const principals = boundary.principals.length + 1; // and PUBLIC
    const schemas = boundary.schemas.length + 1; // and the CI schema
    expect(matrix.principals.map((p) => p.principal)).toEqual([...boundary.principals.map((p) => p.name), "PUBLIC"]);
    expect(matrix.targets).toEqual([...boundary.schemas.map((s) => s.name), seeded.ciSchema!.name, DATABASE]);
    expect(matrix.attempts).toHaveLength(principals * (schemas * SCHEMA_ACTIONS.length + DATABASE_ACTIONS.length));
    expect(matrix.attempts).toHaveLength(8 * (17 * 14 + 14));
    expect(new Set(matrix.attempts.map((a) => `${a.principal}/${a.target}/${a.action}`)).size).toBe(matrix.attempts.length);
  });

  it("finds no outcome the boundary does not predict", () => {
    expect(matrix.attempts.filter((a) => a.actual === "error")).toEqual([]);
    expect(matrix.unexpected).toEqual([]);
  });

  it("is not vacuous: both what must work and what must not are tried, and each is what the boundary says", () => {
    const allowed = matrix.attempts.filter((a) => a.expected === "allowed");
    expect(allowed.length).toBeGreaterThan(200);
    expect(matrix.attempts.length - allowed.length).toBeGreaterThan(1500);
    // Developers read every unrestricted prod table, made by the prod account after provisioning; restricted ones only if listed.
    for (const dev of ["alice", "bob", "carol", "dave", "erin"]) expect(outcome(dev, "prod_sales", "select")).toBe("allowed");
    expect(outcome("carol", "prod_finance", "select")).toBe("allowed");
    expect(outcome("erin", "prod_finance", "select")).toBe("allowed");
    expect(outcome("alice", "prod_finance", "select")).toBe("denied");
    expect(outcome("svc_ci", "prod_finance", "select")).toBe("denied");
    // Only the prod account writes prod; developers write their own schemas and nobody else's.
    for (const action of SCHEMA_ACTIONS.filter((a) => a !== "select" && a !== "rename_schema" && a !== "drop_schema")) {
      expect(outcome("svc_prod", "prod_sales", action)).toBe("allowed");
      expect(outcome("bob", "bob_sales", action)).toBe("allowed");
      for (const p of ["alice", "bob", "carol", "dave", "erin", "svc_ci", "PUBLIC"]) expect(outcome(p, "prod_sales", action)).toBe("denied");
      expect(outcome("alice", "bob_sales", action)).toBe("denied");
    }
    expect(outcome("bob", "bob_sales", "drop_schema")).toBe("allowed");
    // prod_writer owns the prod schemas on PostgreSQL: the prod account can drop one (D1 counts it as the writer's), never
    // rename one (that takes CREATE on the database), and nobody else can do either.
    expect(outcome("svc_prod", "prod_sales", "drop_schema")).toBe("allowed");
    expect(outcome("svc_prod", "prod_sales", "rename_schema")).toBe("denied");
    for (const p of ["alice", "bob", "carol", "dave", "erin", "svc_ci", "PUBLIC"]) expect(outcome(p, "prod_sales", "drop_schema")).toBe("denied");
    expect(outcome("svc_prod", DATABASE, "set_role_writer")).toBe("allowed");
    // CI creates schemas only through ci.create_schema; nobody else may call it, and nobody creates a schema directly (D1).
    expect(outcome("svc_ci", DATABASE, "create_ci_schema")).toBe("allowed");
    for (const p of ["alice", "bob", "carol", "dave", "erin", "svc_prod", "PUBLIC"]) expect(outcome(p, DATABASE, "create_ci_schema")).toBe("denied");
    for (const p of matrix.principals) {
      expect(outcome(p.principal, DATABASE, "create_in_public")).toBe("denied");
      expect(outcome(p.principal, DATABASE, "create_prod_schema")).toBe("denied");
      expect(outcome(p.principal, DATABASE, "create_ci_schema_directly")).toBe("denied");
    }
    expect(outcome("svc_ci", seeded.ciSchema!.name, "rename_schema")).toBe("denied");
    expect(outcome("svc_ci", seeded.ciSchema!.name, "drop_schema")).toBe("allowed");
    for (const p of ["alice", "svc_ci", "PUBLIC"]) expect(outcome(p, DATABASE, "set_role_writer")).toBe("denied");
    for (const p of matrix.principals) expect(outcome(p.principal, DATABASE, "grant_writer_to_self")).toBe("denied");
  });

  it("has CI's crafted calls of ci.create_schema refused by the function itself, and everyone else's by the server", () => {
    const ci = (action: string) => matrix.attempts.find((a) => a.principal === "svc_ci" && a.target === DATABASE && a.action === action)!;
    for (const action of CI_FUNCTION_ABUSES.filter((a) => !(HIJACK_ACTIONS as readonly string[]).includes(a))) {
      expect(ci(action).actual).toBe("denied");
      expect(ci(action).detail).not.toMatch(/permission denied/);
      for (const p of matrix.principals.filter((x) => x.principal !== "svc_ci")) expect(outcome(p.principal, DATABASE, action)).toBe("denied");
    }
    expect(ci("ci_schema_injected_run").detail).toMatch(/CI schemas are ci_<run>_<domain>/);
    expect(ci("ci_schema_traversal_domain").detail).toMatch(/CI schemas are ci_<run>_<domain>/);
    expect(ci("ci_schema_unknown_domain").detail).toMatch(/no domain sandbox_no_such_domain/);
    expect(ci("ci_schema_long_name").detail).toMatch(/at most 63 bytes/);
    const other = matrix.attempts.find((a) => a.principal === "alice" && a.action === "ci_schema_injected_run")!;
    expect(other.detail).toMatch(/permission denied for schema ci/);
  });

  it("never runs code the CI login planted on its search_path inside ci.create_schema, though every look-alike catches the login's own calls", () => {
    const hijack = (action: string) => matrix.attempts.find((a) => a.principal === "svc_ci" && a.action === action)!;
    expect(hijack("ci_schema_search_path_hijack").actual).toBe("denied");
    expect(hijack("ci_schema_search_path_hijack").detail).toMatch(/^ran none of the 15 look-alikes .* and made ci_sandboxhijack_\w+ as usual$/);
    expect(hijack("ci_schema_search_path_hijack").sql).toContain(`SET LOCAL search_path = "${seeded.ciSchema!.name}", pg_catalog`);
    // Type look-alikes (a type `text` with a cast, a domain `text`) and a collation, in CI's own schema and in pg_temp.
    expect(hijack("ci_schema_type_hijack").actual).toBe("denied");
    expect(hijack("ci_schema_type_hijack").detail).toMatch(/^ran none of the 2 look-alikes \(text \(type and cast\), collation "C"\)/);
    expect(hijack("ci_schema_temp_hijack").actual).toBe("denied");
    expect(hijack("ci_schema_temp_hijack").detail).toMatch(/^ran none of the 2 look-alikes \(text \(domain\), pg_namespace\)/);
    expect(hijack("ci_schema_temp_hijack").sql).toContain("SET LOCAL search_path = pg_temp, pg_catalog");
    for (const action of HIJACK_ACTIONS)
      for (const p of matrix.principals.filter((x) => x.principal !== "svc_ci")) expect(outcome(p.principal, DATABASE, action)).toBe("denied");
    // PUBLIC has no schema to plant in, but pg_temp is everyone's: its temp hijack plants and reaches the call, which refuses it.
    const publicTemp = matrix.attempts.find((a) => a.principal === "PUBLIC" && a.action === "ci_schema_temp_hijack")!;
    expect(publicTemp.sql).toContain("CREATE DOMAIN pg_temp.text");
    expect(publicTemp.detail).toMatch(/permission denied for schema ci/);
  });

  it("lets PUBLIC do nothing at all", () => {
    expect(matrix.attempts.filter((a) => a.principal === "PUBLIC" && a.actual !== "denied")).toEqual([]);
  });

  it("attacks prod tables the prod account made after provisioning, owned by the writer role it acts as", async () => {
    expect(seeded.prodSessionRole).toBe("prod_writer");
    const owners = await attacker.query<{ schema: string; owner: string }>(
      "SELECT schemaname AS schema, tableowner AS owner FROM pg_tables WHERE schemaname LIKE 'prod\\_%' ORDER BY 1",
    );
    expect(owners.rows).toEqual(["prod_finance", "prod_marketing", "prod_product", "prod_sales"].map((schema) => ({ schema, owner: "prod_writer" })));
  });

  it("leaves the database as it found it: every attempt was rolled back", async () => {
    const rows = await attacker.query<{ n: string }>("SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE '%sandbox\\_attack%' OR nspname = 'prod_sandbox_renamed'");
    expect(rows.rows[0]!.n).toBe("0");
    const sample = await attacker.query<{ n: string }>("SELECT count(*) AS n FROM prod_sales.sample");
    expect(sample.rows[0]!.n).toBe("1");
  });

  // dbt's `grants={'select': ['bob']}` on a model in carol_finance and a post-hook `grant usage on schema carol_finance
  // to bob`, run by carol (a finance reader), then bob's read: every way carol can hand out her copy of restricted rows.
  const COPY_SHARING = [
    "CREATE TABLE carol_finance.invoices AS SELECT * FROM prod_finance.sample",
    "CREATE VIEW carol_finance.invoices_view AS SELECT * FROM prod_finance.sample",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA carol_finance GRANT SELECT ON TABLES TO bob, dev_bob, PUBLIC",
    "CREATE TABLE carol_finance.later AS SELECT * FROM prod_finance.sample",
    ...["bob", "dev_bob", "PUBLIC"].flatMap((to) => [
      `GRANT SELECT ON carol_finance.invoices, carol_finance.invoices_view TO ${to}${to === "PUBLIC" ? "" : " WITH GRANT OPTION"}`,
      // Accepted with "WARNING: no privileges were granted": carol holds USAGE without grant option.
      `GRANT USAGE ON SCHEMA carol_finance TO ${to}`,
    ]),
  ];
  const BOB_READS = ["carol_finance.invoices", "carol_finance.invoices_view", "carol_finance.later"];
  const bobRead = async (table: string): Promise<string> => {
    const bob = await sandbox.sessionsFor(seeded)("bob");
    try {
      const rows = await bob.query<{ note: string }>(`SELECT note FROM ${table}`);
      return `read ${rows.rows.map((r) => r.note).join(", ")}`;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await bob.end();
    }
  };
  const asCarol = async (statements: readonly string[]): Promise<void> => {
    const carol = await sandbox.sessionsFor(seeded)("carol");
    try {
      for (const sql of statements) await carol.query(sql);
    } finally {
      await carol.end();
    }
  };
  const undoSharing = ["DROP TABLE IF EXISTS carol_finance.invoices, carol_finance.later", "DROP VIEW IF EXISTS carol_finance.invoices_view",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA carol_finance REVOKE SELECT ON TABLES FROM bob, dev_bob, PUBLIC"];

  it("keeps carol's copy of restricted rows from bob, whatever she grants: her schema is the provisioner's, and she has no USAGE to give", async () => {
    const owner = await attacker.query<{ owner: string; acl: string }>("SELECT nspowner::regrole::text AS owner, nspacl::text AS acl FROM pg_namespace WHERE nspname = 'carol_finance'");
    expect(owner.rows[0]).toEqual({ owner: "provisioner", acl: "{provisioner=UC/provisioner,dev_carol=UC/provisioner}" });
    try {
      await asCarol(COPY_SHARING);
      // Carol's grants on her objects took (she owns them); the one on the schema did nothing.
      const granted = await attacker.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.role_table_grants WHERE table_schema = 'carol_finance' AND grantee IN ('bob', 'dev_bob', 'PUBLIC') AND privilege_type = 'SELECT'");
      expect(Number(granted.rows[0]!.n)).toBe(9);
      for (const table of BOB_READS) expect(await bobRead(table)).toBe("permission denied for schema carol_finance");
    } finally {
      await asCarol(undoSharing);
    }
  });

  it("would let bob read it if carol's role owned the schema, as it did before: the attack above is not vacuous", async () => {
    try {
      await attacker.query("ALTER SCHEMA carol_finance OWNER TO dev_carol");
      await asCarol(COPY_SHARING);
      for (const table of BOB_READS) expect(await bobRead(table)).toBe("read made by svc_prod");
    } finally {
      await asCarol(undoSharing);
      await attacker.query("REVOKE ALL ON SCHEMA carol_finance FROM bob, dev_bob, PUBLIC; ALTER SCHEMA carol_finance OWNER TO provisioner; GRANT USAGE, CREATE ON SCHEMA carol_finance TO dev_carol");
    }
    const acl = await attacker.query<{ acl: string }>("SELECT nspacl::text AS acl FROM pg_namespace WHERE nspname = 'carol_finance'");
    expect(acl.rows[0]!.acl).toBe("{provisioner=UC/provisioner,dev_carol=UC/provisioner}");
  });

  it("still lets carol work as dbt does in her copy: create, replace, rename, drop and re-create tables and views", async () => {
    await asCarol([
      "CREATE TABLE carol_finance.invoices__dbt_tmp AS SELECT * FROM prod_finance.sample",
      "ALTER TABLE carol_finance.invoices__dbt_tmp RENAME TO invoices",
      "CREATE VIEW carol_finance.open_invoices AS SELECT * FROM carol_finance.invoices",
      "CREATE OR REPLACE VIEW carol_finance.open_invoices AS SELECT id, note FROM carol_finance.invoices WHERE id > 0",
      "CREATE INDEX ON carol_finance.invoices (id)",
      "DROP TABLE carol_finance.invoices CASCADE",
      "CREATE TABLE carol_finance.invoices AS SELECT * FROM prod_finance.sample",
      "INSERT INTO carol_finance.invoices SELECT * FROM prod_finance.sample",
    ]);
    const carol = await sandbox.sessionsFor(seeded)("carol");
    try {
      expect((await carol.query("SELECT count(*)::int AS n FROM carol_finance.invoices")).rows[0]).toEqual({ n: 2 });
      // What she loses: the schema itself is not hers to drop or rename.
      await expect(carol.query("DROP SCHEMA carol_finance CASCADE")).rejects.toThrow("must be owner of schema carol_finance");
    } finally {
      await carol.query("DROP TABLE carol_finance.invoices");
      await carol.end();
    }
  });

  it("would catch a ci.create_schema whose DECLARE types the caller's path resolves: the type look-alikes then run as the provisioner", async () => {
    const declared = resources.find((r) => r.type === RESOURCE_TYPES.function && r.name === "ci.create_schema")!;
    const body = String(declared.inputs.body);
    expect(body).toContain("schema_name pg_catalog.text;");
    const admin = await sandbox.connect();
    try {
      for (const sql of functionCreateStatements({ ...declared.inputs, body: body.replaceAll(" pg_catalog.text", " text") }, true)) await admin.query(sql);
      const mutant = await runAttacks({ client: attacker, boundary, tables: seeded.tables, publicProbe: PUBLIC_PROBE, loginAs: sandbox.sessionsFor(seeded), ciSchema: seeded.ciSchema!.name });
      const hijack = (action: string) => mutant.attempts.find((a) => a.principal === "svc_ci" && a.action === action)!;
      expect(hijack("ci_schema_type_hijack").actual).toBe("allowed");
      expect(hijack("ci_schema_type_hijack").detail).toMatch(/^ran text \(type and cast\) as provisioner, then failed: /);
      expect(hijack("ci_schema_temp_hijack").actual).toBe("allowed");
      expect(hijack("ci_schema_temp_hijack").detail).toMatch(/^ran text \(domain\) as provisioner/);
      expect(mutant.unexpected.map((a) => `${a.principal} ${a.action}`).sort()).toEqual(["svc_ci ci_schema_temp_hijack", "svc_ci ci_schema_type_hijack"]);
    } finally {
      for (const sql of functionCreateStatements(declared.inputs, true)) await admin.query(sql);
      await admin.end();
    }
  });

  it("would catch a ci.create_schema that forgot to pin its search_path: the look-alikes then run as the provisioner", async () => {
    const declared = resources.find((r) => r.type === RESOURCE_TYPES.function && r.name === "ci.create_schema")!;
    const pin = "PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);";
    expect(String(declared.inputs.body)).toContain(pin);
    const admin = await sandbox.connect();
    try {
      // The provider's own in-place update (CREATE OR REPLACE), with the pin taken out of the body.
      for (const sql of functionCreateStatements({ ...declared.inputs, body: String(declared.inputs.body).replace(pin, "") }, true)) await admin.query(sql);
      const mutant = await runAttacks({ client: attacker, boundary, tables: seeded.tables, publicProbe: PUBLIC_PROBE, loginAs: sandbox.sessionsFor(seeded), ciSchema: seeded.ciSchema!.name });
      const hijack = mutant.attempts.find((a) => a.principal === "svc_ci" && a.action === "ci_schema_search_path_hijack")!;
      expect(hijack.actual).toBe("allowed");
      // The caller's functions and operators run as the provisioner; its pg_namespace view is reached too (readable or not
      // by a provisioner that is no superuser, it is the caller's relation the mutant would read).
      expect(hijack.detail).toMatch(/quote_ident as provisioner/);
      expect(hijack.detail).toMatch(/to_regnamespace as provisioner/);
      expect(hijack.detail).toMatch(/pg_namespace/);
      expect(mutant.unexpected.map((a) => `${a.principal} ${a.action}`)).toEqual(["svc_ci ci_schema_search_path_hijack"]);
    } finally {
      for (const sql of functionCreateStatements(declared.inputs, true)) await admin.query(sql);
      await admin.end();
    }
  });
});
