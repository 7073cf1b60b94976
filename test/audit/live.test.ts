import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLive, DECLARED_FUNCTIONS, type LiveAudit, type LiveAuditOptions, type LiveWritePath } from "../../infra/audit/live";
import { chainText, liveAuditReport, renderLiveAudit } from "../../infra/audit/live-report";
import { checkBoundary } from "../../infra/boundary/rules";
import { declareResources, type DeclaredResource } from "../../infra/platforms/declare";
import { Sandbox } from "../../infra/sandbox/setup";
import { shippedBoundary } from "../support/shipped";
import { sandboxSettings, shippedProvider } from "../sandbox/support";

// The live audit on a real PostgreSQL holding the program's own resources for the shipped roster (applied as the
// provider would): clean, it shows only declared writers and admin paths; each write path planted by hand is found,
// with its chain and how it is used, and is drift. Every plant runs in a transaction that is rolled back.

const boundary = shippedBoundary();
const settings = sandboxSettings();
const PROD_SCHEMAS = boundary.schemas.filter((s) => s.kind === "prod").map((s) => s.name);
let sandbox: Sandbox;
let client: pg.Client;
let resources: DeclaredResource[];

beforeAll(async () => {
  resources = declareResources(boundary, settings);
  sandbox = await Sandbox.start(settings.database, shippedProvider());
  await sandbox.up(resources);
  await sandbox.seed(boundary);
  // The server's superuser plants; each audit then runs as the provider's own user, as `pulumi up` connects.
  client = await sandbox.server.client(settings.database);
}, 120_000);

afterAll(async () => {
  await client?.end();
  await sandbox?.stop();
});

/** The audit with `plant` applied, inside a transaction that is rolled back whatever happens. */
async function auditWith(plant: readonly string[], options: LiveAuditOptions = {}): Promise<LiveAudit> {
  await client.query("BEGIN");
  try {
    for (const sql of plant) await client.query(sql);
    // Still in the transaction, the session becomes the provisioner's: what it sees is what a managed database shows it.
    await client.query(`SET LOCAL SESSION AUTHORIZATION ${sandbox.provider.username}`);
    return await auditLive(client, boundary, options);
  } finally {
    await client.query("ROLLBACK");
  }
}

const writersOf = (audit: LiveAudit, schema: string): LiveWritePath[] => audit.schemas.find((s) => s.schema === schema)?.writers ?? [];
const all = (audit: LiveAudit): LiveWritePath[] => audit.schemas.flatMap((s) => s.writers);
const summary = (w: LiveWritePath) => `${w.status} ${w.principal} ${w.power}${w.privilege ? ` ${w.privilege}` : ""} via ${chainText(w)}`;

describe("the live audit of a clean sandbox", () => {
  let clean: LiveAudit;
  beforeAll(async () => {
    clean = await auditWith([]);
  });

  it("finds every declared prod schema and no other", () => {
    expect(clean.schemas.map((s) => s.schema)).toEqual(PROD_SCHEMAS);
    expect(clean.schemas.every((s) => s.declared)).toBe(true);
    expect(clean.missingSchemas).toEqual([]);
    expect(clean.undeclaredSchemas).toEqual([]);
  });

  it("shows only declared writers (prod_writer, svc_prod through it) and admin paths (provisioner, bootstrap superuser)", () => {
    expect(clean.drift).toBe(0);
    expect(clean.provisioner).toBe("provisioner");
    for (const schema of PROD_SCHEMAS) {
      const writers = writersOf(clean, schema);
      const who = (status: string) => [...new Set(writers.filter((w) => w.status === status).map((w) => w.principal))].sort();
      expect(who("declared"), schema).toEqual(["prod_writer", "svc_prod"]);
      expect(who("admin"), schema).toEqual(["postgres", "provisioner"]);
      expect(who("drift"), schema).toEqual([]);
      expect(writers.filter((w) => w.principal === "svc_prod").map((w) => [w.power, chainText(w), w.reach])).toEqual([
        // prod_writer owns the prod schema (which covers CREATE) and the tables the prod account made in it.
        ["object owner", "svc_prod ─inherits→ prod_writer", "inherit"],
        ["schema owner", "svc_prod ─inherits→ prod_writer", "inherit"],
      ]);
    }
  });

  it("does not follow the program's own SECURITY DEFINER function as a write path, and knows exactly which it is", () => {
    const functions = resources.filter((r) => r.type === "postgresql:index/function:Function");
    expect(functions.every((f) => f.inputs.securityDefiner === true)).toBe(true);
    const signature = (f: DeclaredResource) =>
      `${String(f.inputs.schema)}.${String(f.inputs.name)}(${(f.inputs.args as { type: string }[]).map((a) => a.type).join(", ")})`;
    expect(functions.map(signature)).toEqual([...DECLARED_FUNCTIONS]);
    expect(all(clean).filter((w) => w.hops.some((h) => h.startsWith("executes")))).toEqual([]);
  });

  it("renders a report that says so", () => {
    const text = renderLiveAudit(liveAuditReport(clean, checkBoundary(boundary)));
    expect(text.trimEnd().split("\n").at(-1)).toMatch(/^Live database analytics: no drift\. /);
    expect(text).not.toContain("DRIFT");
  });
});

interface Planted {
  name: string;
  plant: string[];
  /** Paths the audit must report, each as drift. */
  finds: (Partial<LiveWritePath> & { schema: string })[];
}

const PLANTED: Planted[] = [
  {
    name: "a superuser login",
    plant: ["CREATE ROLE mallory LOGIN SUPERUSER"],
    finds: PROD_SCHEMAS.map((schema) => ({ schema, principal: "mallory", login: true, power: "superuser", chain: ["mallory"], reach: "self" })),
  },
  {
    name: "a developer role owning a table in prod_sales",
    plant: ["CREATE TABLE prod_sales.side_table (id int)", "ALTER TABLE prod_sales.side_table OWNER TO dev_alice"],
    finds: [
      { schema: "prod_sales", principal: "dev_alice", power: "object owner", objects: ["side_table"], chain: ["dev_alice"], reach: "self" },
      { schema: "prod_sales", principal: "alice", power: "object owner", chain: ["alice", "dev_alice"], hops: ["inherits"], reach: "inherit" },
    ],
  },
  {
    name: "CREATE on prod_sales for a developer role",
    plant: ["GRANT CREATE ON SCHEMA prod_sales TO dev_bob"],
    finds: [{ schema: "prod_sales", principal: "bob", power: "CREATE on schema", privilege: "CREATE", chain: ["bob", "dev_bob"], reach: "inherit" }],
  },
  {
    name: "INSERT on one table",
    plant: ["GRANT INSERT ON prod_sales.sample TO dev_alice"],
    finds: [{ schema: "prod_sales", principal: "alice", power: "table privilege", privilege: "INSERT", objects: ["sample"], objectCount: 1, chain: ["alice", "dev_alice"] }],
  },
  {
    name: "column-level UPDATE",
    plant: ["GRANT UPDATE (note) ON prod_sales.sample TO dev_alice"],
    finds: [{ schema: "prod_sales", principal: "alice", power: "column privilege", privilege: "UPDATE", objects: ["sample.note"], chain: ["alice", "dev_alice"] }],
  },
  {
    name: "TRUNCATE",
    plant: ["GRANT TRUNCATE ON prod_marketing.sample TO dev_bob"],
    finds: [{ schema: "prod_marketing", principal: "bob", power: "table privilege", privilege: "TRUNCATE", chain: ["bob", "dev_bob"] }],
  },
  {
    name: "TRIGGER",
    plant: ["GRANT TRIGGER ON prod_finance.sample TO dev_erin"],
    finds: [{ schema: "prod_finance", principal: "erin", power: "table privilege", privilege: "TRIGGER", chain: ["erin", "dev_erin"] }],
  },
  {
    name: "default privileges FOR ROLE prod_writer granting INSERT to dev_alice",
    plant: ["ALTER DEFAULT PRIVILEGES FOR ROLE prod_writer IN SCHEMA prod_sales GRANT INSERT ON TABLES TO dev_alice"],
    finds: [
      { schema: "prod_sales", principal: "dev_alice", power: "default privilege", privilege: "INSERT", objects: ["future tables created by prod_writer"], chain: ["dev_alice"] },
      { schema: "prod_sales", principal: "alice", power: "default privilege", chain: ["alice", "dev_alice"] },
    ],
  },
  {
    name: "schema-wide default privileges, for every schema prod_writer creates in",
    plant: ["ALTER DEFAULT PRIVILEGES FOR ROLE prod_writer GRANT UPDATE ON TABLES TO dev_carol"],
    finds: PROD_SCHEMAS.map((schema) => ({ schema, principal: "carol", power: "default privilege" as const, privilege: "UPDATE", objects: ["future tables created by prod_writer in any schema"] })),
  },
  {
    name: "a PUBLIC INSERT grant",
    plant: ["GRANT INSERT ON prod_product.sample TO PUBLIC"],
    finds: [{ schema: "prod_product", principal: "PUBLIC", power: "table privilege", privilege: "INSERT", chain: ["PUBLIC"], reach: "self" }],
  },
  {
    name: "pg_write_all_data granted to a developer",
    plant: ["GRANT pg_write_all_data TO dev_carol"],
    finds: PROD_SCHEMAS.map((schema) => ({ schema, principal: "carol", power: "pg_write_all_data" as const, chain: ["carol", "dev_carol", "pg_write_all_data"], reach: "inherit" as const })),
  },
  {
    name: "a developer made member of prod_writer WITH INHERIT",
    plant: ["GRANT prod_writer TO dev_alice WITH INHERIT TRUE"],
    finds: PROD_SCHEMAS.map((schema) => ({ schema, principal: "alice", power: "schema owner" as const, chain: ["alice", "dev_alice", "prod_writer"], hops: ["inherits", "inherits"], reach: "inherit" as const })),
  },
  {
    name: "a developer made member of prod_writer with NOINHERIT but SET TRUE",
    plant: ["GRANT prod_writer TO dev_alice WITH INHERIT FALSE, SET TRUE"],
    finds: [{ schema: "prod_sales", principal: "alice", power: "schema owner", chain: ["alice", "dev_alice", "prod_writer"], hops: ["inherits", "SET ROLE"], reach: "set" }],
  },
  {
    name: "ADMIN on prod_writer only (INHERIT FALSE, SET FALSE)",
    plant: ["GRANT prod_writer TO dev_alice WITH ADMIN TRUE, INHERIT FALSE, SET FALSE"],
    finds: [{ schema: "prod_sales", principal: "alice", power: "object owner", chain: ["alice", "dev_alice", "prod_writer"], hops: ["inherits", "ADMIN"], reach: "admin" }],
  },
  {
    name: "a chain alice → x → prod_writer",
    plant: ["CREATE ROLE x_bridge", "GRANT x_bridge TO alice", "GRANT prod_writer TO x_bridge"],
    finds: [
      { schema: "prod_sales", principal: "alice", power: "schema owner", chain: ["alice", "x_bridge", "prod_writer"], reach: "inherit" },
      { schema: "prod_sales", principal: "x_bridge", login: false, power: "schema owner", chain: ["x_bridge", "prod_writer"] },
    ],
  },
  {
    name: "ownership of the database",
    plant: ["ALTER DATABASE analytics OWNER TO dev_dave"],
    finds: PROD_SCHEMAS.map((schema) => ({ schema, principal: "dave_k", power: "database owner" as const, chain: ["dave_k", "dev_dave"] })),
  },
  {
    name: "ownership of the schema",
    plant: ["ALTER SCHEMA prod_sales OWNER TO dev_erin"],
    finds: [{ schema: "prod_sales", principal: "erin", power: "schema owner", chain: ["erin", "dev_erin"] }],
  },
  {
    name: "a SECURITY DEFINER function of prod_writer that PUBLIC may execute",
    plant: [
      "CREATE FUNCTION prod_sales.load_sample() RETURNS void LANGUAGE sql SECURITY DEFINER AS 'INSERT INTO prod_sales.sample VALUES (2, null)'",
      "ALTER FUNCTION prod_sales.load_sample() OWNER TO prod_writer",
    ],
    finds: [{ schema: "prod_sales", principal: "PUBLIC", power: "schema owner", chain: ["PUBLIC", "prod_writer"], hops: ["executes prod_sales.load_sample()"] }],
  },
  {
    name: "the program's CI function owned by a role other than the provisioner",
    plant: ["ALTER FUNCTION ci.create_schema(text, text) OWNER TO prod_writer"],
    finds: [{ schema: "prod_sales", principal: "svc_ci", power: "schema owner", chain: ["svc_ci", "ci_builder", "prod_writer"], hops: ["inherits", "executes ci.create_schema(text,text)"] }],
  },
  {
    // On 16+ the provisioner is a member of every role it made, so none of them can be made its member (a cycle): the
    // login is one someone else made. The provisioner is no superuser, but it owns the database and manages every role.
    name: "a login someone else made, who can SET ROLE to the provisioner",
    plant: ["CREATE ROLE mallory LOGIN", "GRANT provisioner TO mallory WITH INHERIT FALSE"],
    finds: [{ schema: "prod_sales", principal: "mallory", chain: ["mallory", "provisioner"], reach: "set" }],
  },
];

describe("the live audit finds each write path planted by hand, as drift", () => {
  it.each(PLANTED)("$name", async ({ plant, finds }) => {
    const audit = await auditWith(plant);
    const found = all(audit);
    for (const expected of finds) expect(found, JSON.stringify(expected)).toContainEqual(expect.objectContaining({ ...expected, status: "drift" }));
    expect(audit.drift).toBeGreaterThan(0);
    // What was declared before the plant is still declared: a plant adds drift, it never hides the declared writers.
    for (const schema of PROD_SCHEMAS)
      expect(writersOf(audit, schema).filter((w) => w.principal === "svc_prod").every((w) => w.status === "declared")).toBe(true);
  });

  it("prints each planted path as a DRIFT row with its chain", async () => {
    const audit = await auditWith(["GRANT prod_writer TO dev_alice WITH INHERIT FALSE, SET TRUE"]);
    const text = renderLiveAudit(liveAuditReport(audit, checkBoundary(boundary)));
    expect(text).toMatch(/DRIFT\s+alice\s+login\s+alice ─inherits→ dev_alice ─SET ROLE→ prod_writer \(can SET ROLE to it\)\s+owns the schema \(alter, drop, grant\); owns object sample\n/);
    expect(text).toContain("DRIFT: 16 write paths the boundary does not declare, for 2 roles on 4 prod schemas: alice, dev_alice");
    expect(all(audit).filter((w) => w.status === "drift").map(summary)).toContain("drift dev_alice schema owner via dev_alice ─SET ROLE→ prod_writer");
  });

  it("flags declared prod schemas the database lacks and prod_ schemas the roster does not declare", async () => {
    const audit = await auditWith(["ALTER SCHEMA prod_product RENAME TO archived_product", "CREATE SCHEMA prod_hr AUTHORIZATION provisioner"]);
    expect(audit.missingSchemas).toEqual(["prod_product"]);
    expect(audit.undeclaredSchemas).toEqual(["prod_hr"]);
    expect(audit.drift).toBe(2);
    const hr = audit.schemas.find((s) => s.schema === "prod_hr")!;
    expect(hr.declared).toBe(false);
    expect(hr.writers.map((w) => `${w.status} ${w.principal} ${w.power}`)).toContain("admin provisioner schema owner");
  });

  it("catches a prod_ schema the CI login made, were ci_builder given CREATE on the database", async () => {
    const audit = await auditWith(["GRANT CREATE ON DATABASE analytics TO ci_builder", "SET ROLE svc_ci", "CREATE SCHEMA prod_shadow", "RESET ROLE"]);
    expect(audit.undeclaredSchemas).toEqual(["prod_shadow"]);
    expect(writersOf(audit, "prod_shadow")).toContainEqual(expect.objectContaining({ principal: "svc_ci", power: "schema owner", chain: ["svc_ci"], status: "drift" }));
  });

  it("does not count an ADMIN that a NOINHERIT, NOSET membership hides (16+), but does under the pre-16 rules", async () => {
    const plant = ["ALTER ROLE dev_alice NOINHERIT", "GRANT prod_writer TO dev_alice WITH INHERIT FALSE, SET FALSE"];
    const modern = await auditWith(plant);
    expect(all(modern).filter((w) => w.principal === "dev_alice")).toEqual([]);
    expect(modern.drift).toBe(0);
    const old = await auditWith(plant, { rules: "pre-16" });
    expect(old.membershipRules).toBe("pre-16");
    // Before 16 every membership allows SET ROLE, and NOINHERIT on the member is what stops inheritance.
    expect(all(old)).toContainEqual(expect.objectContaining({ principal: "dev_alice", power: "schema owner", chain: ["dev_alice", "prod_writer"], reach: "set", status: "drift" }));
  });

  it("follows the pre-16 rule that CREATEROLE can grant itself any non-superuser role", async () => {
    const plant = ["CREATE ROLE eve LOGIN CREATEROLE"];
    expect(all(await auditWith(plant)).filter((w) => w.principal === "eve")).toEqual([]);
    const old = await auditWith(plant, { rules: "pre-16" });
    expect(all(old)).toContainEqual(expect.objectContaining({ principal: "eve", schema: "prod_sales", power: "schema owner", chain: ["eve", "prod_writer"], hops: ["CREATEROLE"], reach: "admin", status: "drift" }));
  });

  it("labels the provisioner named with --provisioner as the admin path, not the connecting role", async () => {
    const audit = await auditWith(["CREATE ROLE deployer LOGIN", "GRANT CREATE ON SCHEMA prod_sales TO deployer"], { provisioner: "deployer" });
    expect(writersOf(audit, "prod_sales").filter((w) => w.principal === "deployer").map((w) => w.status)).toEqual(["admin"]);
    // The connecting role is no longer the provisioner: a superuser like any other that nobody declared.
    expect(writersOf(audit, "prod_sales").filter((w) => w.principal === "provisioner").every((w) => w.status === "drift")).toBe(true);
  });
});
