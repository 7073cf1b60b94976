import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLive, UnknownProvisionerError, type LiveAudit, type LiveAuditOptions, type LiveWritePath } from "../../infra/audit/live";
import type { LiveReadPath } from "../../infra/audit/live-read";
import { liveAuditReport, renderLiveAudit } from "../../infra/audit/live-report";
import { checkBoundary } from "../../infra/boundary/rules";
import { declareResources } from "../../infra/platforms/declare";
import { Sandbox, type Seeded } from "../../infra/sandbox/setup";
import type { PostgresMajor } from "../../infra/sandbox/server";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, shippedBoundary } from "../support/shipped";
import { sandboxSettings, shippedProvider } from "../sandbox/support";

// The indirect write paths and the read paths the live audit must see, each planted on a real server by a superuser,
// found by the audit as drift with its chain, and then proven by doing the act as the attacker's own login. Plants are
// committed (the attacker logs in separately) and undone after each case. A clean sandbox reports nothing. PG 15 and 18.

const boundary = shippedBoundary();
const settings = sandboxSettings();
const PROD_SCHEMAS = boundary.schemas.filter((s) => s.kind === "prod").map((s) => s.name);

interface World {
  major: PostgresMajor;
  sandbox: Sandbox;
  seeded: Seeded;
  /** The bootstrap superuser on the warehouse database: plants, undoes, and checks effects. */
  admin: pg.Client;
  /** The provisioner's own connection, as the audit would run. */
  auditor: pg.Client;
}

interface Case {
  name: string;
  /** Only on servers of at least this major. */
  since?: number;
  plant: (w: World) => string[];
  /** What the audit must report, as drift. */
  expect: (audit: LiveAudit) => void;
  /** The act, as the attacker's login; then `proof` (as the superuser) must show it took effect. */
  attack?: { as: string; sql: (w: World) => string[]; then?: { as: string; sql: string[] } };
  proof?: string;
  undo: string[];
}

const writes = (audit: LiveAudit): LiveWritePath[] => audit.schemas.flatMap((s) => s.writers);
const reads = (audit: LiveAudit): LiveReadPath[] => audit.reads.schemas.flatMap((s) => s.readers);
const writeDrift = (audit: LiveAudit, expected: Partial<LiveWritePath>) =>
  expect(writes(audit), JSON.stringify(expected)).toContainEqual(expect.objectContaining({ ...expected, status: "drift" }));
const readDrift = (audit: LiveAudit, expected: Partial<LiveReadPath>) =>
  expect(reads(audit), JSON.stringify(expected)).toContainEqual(expect.objectContaining({ ...expected, status: "drift" }));
const password = (w: World, login: string) => w.seeded.logins.find((l) => l.login === login)!.password;

const CASES: Case[] = [
  {
    name: "an event trigger whose function a developer owns: the developer makes itself superuser",
    plant: () => [
      "CREATE FUNCTION alice_sales.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN NULL; END$$",
      "ALTER FUNCTION alice_sales.on_ddl() OWNER TO dev_alice",
      "CREATE EVENT TRIGGER sandbox_on_ddl ON ddl_command_end EXECUTE FUNCTION alice_sales.on_ddl()",
    ],
    expect: (audit) => {
      for (const schema of PROD_SCHEMAS)
        writeDrift(audit, { schema, principal: "alice", power: "event trigger function", chain: ["alice", "dev_alice"], objects: ["sandbox_on_ddl runs alice_sales.on_ddl()"] });
    },
    attack: {
      as: "alice",
      sql: () => [`CREATE OR REPLACE FUNCTION alice_sales.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
        BEGIN IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN EXECUTE 'ALTER ROLE alice SUPERUSER'; END IF; END$$`],
      // Any DDL a superuser runs later fires it.
      then: { as: "postgres", sql: ["CREATE TABLE public.sandbox_ddl (id int)", "DROP TABLE public.sandbox_ddl"] },
    },
    proof: "SELECT rolsuper AS ok FROM pg_roles WHERE rolname = 'alice'",
    undo: ["DROP EVENT TRIGGER IF EXISTS sandbox_on_ddl", "DROP FUNCTION IF EXISTS alice_sales.on_ddl()", "ALTER ROLE alice NOSUPERUSER"],
  },
  {
    name: "pg_execute_server_program: runs programs as the server's OS user",
    plant: () => ["GRANT pg_execute_server_program TO dev_bob"],
    expect: (audit) => {
      for (const schema of PROD_SCHEMAS)
        writeDrift(audit, { schema, principal: "bob", power: "pg_execute_server_program", chain: ["bob", "dev_bob", "pg_execute_server_program"] });
    },
    attack: { as: "bob", sql: () => ["COPY (SELECT 'owned') TO PROGRAM 'cat > /tmp/warehouse-access-program-proof'"] },
    proof: "SELECT pg_read_file('/tmp/warehouse-access-program-proof') = E'owned\\n' AS ok",
    undo: ["REVOKE pg_execute_server_program FROM dev_bob", "COPY (SELECT 1) TO PROGRAM 'rm -f /tmp/warehouse-access-program-proof'"],
  },
  {
    name: "pg_write_server_files: writes any file the server's OS user can",
    plant: () => ["GRANT pg_write_server_files TO dev_bob"],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "bob", power: "pg_write_server_files" }),
    attack: { as: "bob", sql: () => ["COPY (SELECT 'owned') TO '/tmp/warehouse-access-file-proof'"] },
    proof: "SELECT pg_read_file('/tmp/warehouse-access-file-proof') = E'owned\\n' AS ok",
    undo: ["REVOKE pg_write_server_files FROM dev_bob", "COPY (SELECT 1) TO PROGRAM 'rm -f /tmp/warehouse-access-file-proof'"],
  },
  {
    name: "pg_read_server_files: reads the server's own files",
    plant: () => ["GRANT pg_read_server_files TO dev_bob"],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "bob", power: "pg_read_server_files" }),
    attack: {
      as: "bob",
      sql: (w) => [
        "CREATE TABLE bob_sales.stolen (line text)",
        `COPY bob_sales.stolen FROM '${w.sandbox.server.dataDir}/PG_VERSION'`,
      ],
    },
    proof: "SELECT count(*) = 1 AS ok FROM bob_sales.stolen",
    undo: ["REVOKE pg_read_server_files FROM dev_bob", "DROP TABLE IF EXISTS bob_sales.stolen"],
  },
  {
    name: "pg_maintain (17+): locks and maintains every prod table",
    since: 17,
    plant: () => ["GRANT pg_maintain TO dev_carol"],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "carol", power: "pg_maintain", chain: ["carol", "dev_carol", "pg_maintain"] }),
    attack: { as: "carol", sql: () => ["CLUSTER prod_sales.sample USING sample_pkey_for_proof"] },
    proof: "SELECT indisclustered AS ok FROM pg_index WHERE indexrelid = 'prod_sales.sample_pkey_for_proof'::regclass",
    undo: ["REVOKE pg_maintain FROM dev_carol", "ALTER TABLE prod_sales.sample SET WITHOUT CLUSTER", "DROP INDEX IF EXISTS prod_sales.sample_pkey_for_proof"],
  },
  {
    name: "a view owned by prod_writer in a developer schema, writable by the developer, forwards writes into prod",
    plant: () => [
      "CREATE VIEW bob_sales.forward AS SELECT * FROM prod_sales.sample",
      "ALTER VIEW bob_sales.forward OWNER TO prod_writer",
      "GRANT INSERT ON bob_sales.forward TO dev_bob",
    ],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "bob", power: "writes through a view or rule", privilege: "INSERT", objects: ["bob_sales.forward"], chain: ["bob", "dev_bob"] }),
    attack: { as: "bob", sql: () => ["INSERT INTO bob_sales.forward VALUES (42, 'forwarded by a view')"] },
    proof: "SELECT count(*) = 1 AS ok FROM prod_sales.sample WHERE note = 'forwarded by a view'",
    undo: ["DROP VIEW IF EXISTS bob_sales.forward", "DELETE FROM prod_sales.sample WHERE id = 42"],
  },
  {
    name: "a rule on a prod_writer table in a developer schema forwards writes into prod",
    plant: () => [
      "CREATE TABLE bob_sales.inbox (id int, note text)",
      "ALTER TABLE bob_sales.inbox OWNER TO prod_writer",
      "CREATE RULE forward AS ON INSERT TO bob_sales.inbox DO INSTEAD INSERT INTO prod_sales.sample VALUES (NEW.id, NEW.note)",
      "GRANT INSERT ON bob_sales.inbox TO dev_bob",
    ],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "bob", power: "writes through a view or rule", objects: ["bob_sales.inbox"] }),
    attack: { as: "bob", sql: () => ["INSERT INTO bob_sales.inbox VALUES (43, 'forwarded by a rule')"] },
    proof: "SELECT count(*) = 1 AS ok FROM prod_sales.sample WHERE note = 'forwarded by a rule'",
    undo: ["DROP TABLE IF EXISTS bob_sales.inbox", "DELETE FROM prod_sales.sample WHERE id = 43"],
  },
  {
    name: "a trigger on a prod table calling a developer's function: the developer's code runs as the prod account",
    plant: () => [
      "CREATE FUNCTION alice_sales.stamp() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$",
      "ALTER FUNCTION alice_sales.stamp() OWNER TO dev_alice",
      "CREATE TRIGGER stamp BEFORE INSERT ON prod_sales.sample FOR EACH ROW EXECUTE FUNCTION alice_sales.stamp()",
    ],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "alice", power: "owns what prod depends on", chain: ["alice", "dev_alice"],
      objects: ["trigger stamp on table prod_sales.sample → function alice_sales.stamp()"] }),
    attack: {
      as: "alice",
      sql: () => [`CREATE OR REPLACE FUNCTION alice_sales.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE prod_sales.sample SET note = 'rewritten by alice' WHERE id = 1; RETURN NEW; END$$`],
      // The next prod run inserts a row.
      then: { as: "svc_prod", sql: ["INSERT INTO prod_sales.sample VALUES (44, 'a prod load')"] },
    },
    proof: "SELECT note = 'rewritten by alice' AS ok FROM prod_sales.sample WHERE id = 1",
    undo: ["DROP TRIGGER IF EXISTS stamp ON prod_sales.sample", "DROP FUNCTION IF EXISTS alice_sales.stamp()",
      "DELETE FROM prod_sales.sample WHERE id = 44", "UPDATE prod_sales.sample SET note = 'made by svc_prod' WHERE id = 1"],
  },
  {
    name: "a prod column typed by a developer's domain: DROP DOMAIN … CASCADE drops the prod column",
    plant: () => [
      "CREATE DOMAIN alice_sales.amount AS integer",
      "ALTER DOMAIN alice_sales.amount OWNER TO dev_alice",
      "ALTER TABLE prod_sales.sample ADD COLUMN amount alice_sales.amount",
    ],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "alice", power: "owns what prod depends on",
      objects: ["column amount of table prod_sales.sample → type alice_sales.amount"] }),
    attack: { as: "alice", sql: () => ["DROP DOMAIN alice_sales.amount CASCADE"] },
    proof: "SELECT NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'prod_sales.sample'::regclass AND attname = 'amount' AND NOT attisdropped) AS ok",
    undo: ["ALTER TABLE prod_sales.sample DROP COLUMN IF EXISTS amount", "DROP DOMAIN IF EXISTS alice_sales.amount"],
  },
  {
    name: "a prod view over a developer's table: DROP TABLE … CASCADE drops the prod view",
    plant: () => [
      "CREATE TABLE alice_sales.lookup (id int, label text)",
      "ALTER TABLE alice_sales.lookup OWNER TO dev_alice",
      "CREATE VIEW prod_sales.labels AS SELECT * FROM alice_sales.lookup",
      "ALTER VIEW prod_sales.labels OWNER TO prod_writer",
    ],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "alice", power: "owns what prod depends on",
      objects: ["rule _RETURN on view prod_sales.labels → table alice_sales.lookup"] }),
    attack: { as: "alice", sql: () => ["DROP TABLE alice_sales.lookup CASCADE"] },
    proof: "SELECT to_regclass('prod_sales.labels') IS NULL AS ok",
    undo: ["DROP VIEW IF EXISTS prod_sales.labels", "DROP TABLE IF EXISTS alice_sales.lookup"],
  },
  {
    name: "a prod table inheriting from a developer's table: the developer deletes prod rows through the parent",
    plant: () => [
      "CREATE TABLE alice_sales.parent (id int, note text)",
      "ALTER TABLE alice_sales.parent OWNER TO dev_alice",
      "CREATE TABLE prod_sales.child () INHERITS (alice_sales.parent)",
      "ALTER TABLE prod_sales.child OWNER TO prod_writer",
      "INSERT INTO prod_sales.child VALUES (1, 'a prod row')",
    ],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "alice", power: "owns what prod depends on",
      objects: ["table prod_sales.child → table alice_sales.parent"] }),
    attack: { as: "alice", sql: () => ["DELETE FROM alice_sales.parent"] },
    proof: "SELECT count(*) = 0 AS ok FROM prod_sales.child",
    undo: ["DROP TABLE IF EXISTS prod_sales.child", "DROP TABLE IF EXISTS alice_sales.parent"],
  },
  {
    name: "a postgres_fdw user mapping that logs a developer in as the prod account",
    plant: (w) => [
      "CREATE EXTENSION postgres_fdw",
      `CREATE SERVER loopback FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '${w.sandbox.server.port}', dbname '${settings.database}')`,
      "GRANT USAGE ON FOREIGN SERVER loopback TO bob",
      `CREATE USER MAPPING FOR bob SERVER loopback OPTIONS (user 'svc_prod', password '${password(w, "svc_prod")}')`,
      "CREATE FOREIGN TABLE bob_sales.remote_sample (id int, note text) SERVER loopback OPTIONS (schema_name 'prod_sales', table_name 'sample')",
      "ALTER FOREIGN TABLE bob_sales.remote_sample OWNER TO dev_bob",
    ],
    // The audit runs as the provisioner, no superuser: it cannot read the mapping's options, so it names the mapping.
    expect: (audit) => expect(audit.reads.machinery.filter((c) => !c.ok).map((c) => c.detail)).toEqual([expect.stringMatching(/^bob on loopback: only a superuser/)]),
    attack: { as: "bob", sql: () => ["INSERT INTO bob_sales.remote_sample VALUES (45, 'written through a user mapping')"] },
    proof: "SELECT count(*) = 1 AS ok FROM prod_sales.sample WHERE note = 'written through a user mapping'",
    undo: ["DROP EXTENSION IF EXISTS postgres_fdw CASCADE", "DELETE FROM prod_sales.sample WHERE id = 45"],
  },
  {
    name: "ADMIN on prod_writer held by the prod account: it hands prod_writer to anyone",
    plant: () => ["GRANT prod_writer TO svc_prod WITH ADMIN OPTION"],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "svc_prod", power: "ADMIN on a writer role", objects: ["prod_writer"], chain: ["svc_prod", "prod_writer"], hops: ["ADMIN"] }),
    // The login acts as prod_writer (its role setting); SET ROLE NONE is the login itself, which holds the ADMIN.
    attack: { as: "svc_prod", sql: () => ["SET ROLE NONE", "GRANT prod_writer TO bob"] },
    proof: "SELECT pg_has_role('bob', 'prod_writer', 'MEMBER') AS ok",
    undo: ["REVOKE prod_writer FROM bob GRANTED BY svc_prod", "REVOKE ADMIN OPTION FOR prod_writer FROM svc_prod CASCADE"],
  },
  {
    name: "USAGE on a prod sequence: nextval() moves it",
    plant: () => ["CREATE SEQUENCE prod_sales.ids", "ALTER SEQUENCE prod_sales.ids OWNER TO prod_writer", "GRANT USAGE ON SEQUENCE prod_sales.ids TO dev_alice"],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "alice", power: "table privilege", privilege: "USAGE", objects: ["ids"] }),
    attack: { as: "alice", sql: () => ["SELECT nextval('prod_sales.ids')"] },
    proof: "SELECT last_value = 1 AND is_called AS ok FROM prod_sales.ids",
    undo: ["DROP SEQUENCE IF EXISTS prod_sales.ids"],
  },
  {
    name: "CREATE on the database: a developer creates a prod_ schema",
    plant: () => [`GRANT CREATE ON DATABASE ${settings.database} TO dev_dave`],
    expect: (audit) => writeDrift(audit, { schema: "prod_sales", principal: "dave_k", power: "CREATE on database", chain: ["dave_k", "dev_dave"] }),
    attack: { as: "dave_k", sql: () => ["CREATE SCHEMA prod_shadow"] },
    proof: "SELECT to_regnamespace('prod_shadow') IS NOT NULL AS ok",
    undo: ["DROP SCHEMA IF EXISTS prod_shadow CASCADE", `REVOKE CREATE ON DATABASE ${settings.database} FROM dev_dave`],
  },
  {
    name: "PUBLIC SELECT on a prod view (the provider reads back tables only)",
    plant: () => [
      "CREATE VIEW prod_sales.public_view AS SELECT * FROM prod_sales.sample",
      "ALTER VIEW prod_sales.public_view OWNER TO prod_writer",
      "GRANT SELECT ON prod_sales.public_view TO PUBLIC",
      "GRANT USAGE ON SCHEMA prod_sales TO PUBLIC",
    ],
    expect: (audit) => {
      expect(audit.reads.publicGrants).toContainEqual({ schema: "prod_sales", kind: "view", privilege: "SELECT", objects: ["public_view"], objectCount: 1 });
      expect(audit.reads.publicGrants).toContainEqual({ schema: "prod_sales", kind: "schema", privilege: "USAGE", objects: ["prod_sales"], objectCount: 1 });
    },
    attack: { as: "sandbox_public", sql: () => ["CREATE TEMP TABLE seen AS SELECT * FROM prod_sales.public_view", "INSERT INTO public.public_proof SELECT count(*) FROM seen"] },
    proof: "SELECT count(*) = 1 AS ok FROM public_proof",
    undo: ["DROP VIEW IF EXISTS prod_sales.public_view", "REVOKE USAGE ON SCHEMA prod_sales FROM PUBLIC", "TRUNCATE public_proof"],
  },
  {
    name: "PUBLIC EXECUTE on a prod function (PostgreSQL's default) and USAGE on a prod sequence",
    plant: () => [
      "CREATE FUNCTION prod_sales.total() RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint'",
      "ALTER FUNCTION prod_sales.total() OWNER TO prod_writer",
      "CREATE SEQUENCE prod_sales.public_ids",
      "GRANT USAGE ON SEQUENCE prod_sales.public_ids TO PUBLIC",
      "GRANT USAGE ON SCHEMA prod_sales TO PUBLIC",
    ],
    expect: (audit) => {
      expect(audit.reads.publicGrants).toContainEqual(expect.objectContaining({ schema: "prod_sales", kind: "function", privilege: "EXECUTE", objects: ["prod_sales.total()"] }));
      expect(audit.reads.publicGrants).toContainEqual(expect.objectContaining({ schema: "prod_sales", kind: "sequence", privilege: "USAGE", objects: ["public_ids"] }));
      writeDrift(audit, { schema: "prod_sales", principal: "PUBLIC", power: "table privilege", privilege: "USAGE", objects: ["public_ids"] });
    },
    attack: { as: "sandbox_public", sql: () => ["INSERT INTO public.public_proof SELECT prod_sales.total() + nextval('prod_sales.public_ids')"] },
    proof: "SELECT count(*) = 1 AS ok FROM public_proof",
    undo: ["DROP FUNCTION IF EXISTS prod_sales.total()", "DROP SEQUENCE IF EXISTS prod_sales.public_ids", "REVOKE USAGE ON SCHEMA prod_sales FROM PUBLIC", "TRUNCATE public_proof"],
  },
  {
    name: "a non-reader given the restricted reader role reads prod_finance",
    plant: () => ["GRANT prod_finance_reader TO dev_bob"],
    expect: (audit) => readDrift(audit, { schema: "prod_finance", principal: "bob", power: "SELECT", chain: ["bob", "dev_bob", "prod_finance_reader"], reach: "inherit" }),
    attack: { as: "bob", sql: () => ["INSERT INTO public.public_proof SELECT count(*) FROM prod_finance.sample"] },
    proof: "SELECT count(*) = 1 AS ok FROM public_proof",
    undo: ["REVOKE prod_finance_reader FROM dev_bob", "TRUNCATE public_proof"],
  },
  {
    name: "pg_read_all_data for a developer reads every restricted schema",
    plant: () => ["GRANT pg_read_all_data TO dev_alice"],
    expect: (audit) => readDrift(audit, { schema: "prod_finance", principal: "alice", power: "pg_read_all_data", chain: ["alice", "dev_alice", "pg_read_all_data"] }),
    attack: { as: "alice", sql: () => ["INSERT INTO public.public_proof SELECT count(*) FROM prod_finance.sample"] },
    proof: "SELECT count(*) = 1 AS ok FROM public_proof",
    undo: ["REVOKE pg_read_all_data FROM dev_alice", "TRUNCATE public_proof"],
  },
  {
    name: "a reader's SECURITY DEFINER function hands restricted rows to a non-reader",
    plant: () => [],
    expect: (audit) => readDrift(audit, { schema: "prod_finance", principal: "bob", power: "SELECT",
      chain: ["bob", "dev_bob", "carol", "dev_carol", "prod_finance_reader"], hops: ["inherits", "executes carol_sales.peek()", "inherits", "inherits"] }),
    attack: { as: "bob", sql: () => ["INSERT INTO public.public_proof SELECT count(*) FROM carol_sales.peek()"] },
    proof: "SELECT count(*) = 1 AS ok FROM public_proof",
    undo: ["DROP FUNCTION IF EXISTS carol_sales.peek()", "REVOKE USAGE ON SCHEMA carol_sales FROM dev_bob", "TRUNCATE public_proof"],
  },
  {
    name: "a reader's view in another schema hands restricted rows to a non-reader",
    plant: () => [],
    expect: (audit) => readDrift(audit, { schema: "prod_finance", principal: "bob", power: "copy SELECT", privilege: "carol_sales", objects: ["carol_sales.invoices"] }),
    attack: { as: "bob", sql: () => ["INSERT INTO public.public_proof SELECT count(*) FROM carol_sales.invoices"] },
    proof: "SELECT count(*) = 1 AS ok FROM public_proof",
    undo: ["DROP VIEW IF EXISTS carol_sales.invoices", "REVOKE USAGE ON SCHEMA carol_sales FROM dev_bob", "TRUNCATE public_proof"],
  },
];

/** The reader's own acts that set up the two cases above: done by carol's login, as a reader would. */
const CAROL_SETUP: Record<string, string[]> = {
  "a reader's SECURITY DEFINER function hands restricted rows to a non-reader": [
    "CREATE FUNCTION carol_sales.peek() RETURNS SETOF prod_finance.sample LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM prod_finance.sample'",
    "REVOKE EXECUTE ON FUNCTION carol_sales.peek() FROM PUBLIC",
    "GRANT EXECUTE ON FUNCTION carol_sales.peek() TO dev_bob",
    "GRANT USAGE ON SCHEMA carol_sales TO dev_bob",
  ],
  "a reader's view in another schema hands restricted rows to a non-reader": [
    "CREATE VIEW carol_sales.invoices AS SELECT * FROM prod_finance.sample",
    "GRANT USAGE ON SCHEMA carol_sales TO dev_bob",
    "GRANT SELECT ON carol_sales.invoices TO dev_bob",
  ],
};

/** The lines of the README's code block after `<!-- marker`, as pasted from a real run. */
function readmeBlock(marker: string): string[] {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const after = readme.slice(readme.indexOf(`<!-- ${marker}`));
  return after.slice(after.indexOf("```\n") + 4, after.indexOf("\n```", after.indexOf("```\n") + 4)).split("\n");
}

async function asLogin(w: World, login: string, statements: readonly string[]): Promise<void> {
  const client = login === "postgres" ? await w.sandbox.server.client(settings.database) : await w.sandbox.connect({ user: login, password: password(w, login) });
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

describe.each([15, 18] as const)("on PostgreSQL %i", (major) => {
  const w = { major } as World;
  const audit = (options: LiveAuditOptions = {}) => auditLive(w.auditor, boundary, { provisioner: "provisioner", ...options });

  beforeAll(async () => {
    w.sandbox = await Sandbox.start(settings.database, shippedProvider(), undefined, major);
    await w.sandbox.up(await declareResources(boundary, settings));
    w.seeded = await w.sandbox.seed(boundary);
    w.admin = await w.sandbox.server.client(settings.database);
    w.auditor = await w.sandbox.connect();
    // Where attackers leave what they read, so the proof can count it: a table anyone may insert into.
    await w.admin.query("CREATE TABLE public.public_proof (n bigint); GRANT INSERT ON public.public_proof TO PUBLIC");
  }, 180_000);

  afterAll(async () => {
    await w.auditor?.end();
    await w.admin?.end();
    await w.sandbox?.stop();
  });

  it("reports nothing on a clean sandbox: no write or read drift, PUBLIC holds nothing on prod, the machinery works", async () => {
    const clean = await audit();
    expect(writes(clean).filter((p) => p.status === "drift")).toEqual([]);
    expect(reads(clean).filter((p) => p.status === "drift")).toEqual([]);
    expect(clean.reads.publicGrants).toEqual([]);
    expect(clean.reads.machinery.map((c) => [c.check, c.ok])).toEqual([
      ["the provisioner can grant itself ci_builder", true], ["ci.create_schema belongs to the provisioner", true],
      ["the provisioner can manage every declared role", true], ["developer schemas belong to their developer's role, restricted copies to the provisioner", true],
      ["PUBLIC cannot create in schema public", true], ["every user mapping can be followed", true],
    ]);
    expect(clean.lookalikeSchemas).toEqual([]);
    expect(clean.drift).toBe(0);
    // The restricted domain's data, and who reads it: the listed readers (carol, erin), the writer, the admin paths.
    expect(clean.reads.schemas.map((s) => [s.schema, s.kind])).toEqual([["carol_finance", "developer"], ["erin_finance", "developer"], ["prod_finance", "prod"]]);
    const prodReaders = new Set(clean.reads.schemas.find((s) => s.schema === "prod_finance")!.readers.map((r) => `${r.status} ${r.principal}`));
    expect([...prodReaders].sort()).toEqual(["admin postgres", "admin provisioner", "declared carol", "declared dev_carol", "declared dev_erin",
      "declared erin", "declared prod_finance_reader", "declared prod_writer", "declared svc_prod"]);
    const text = renderLiveAudit(liveAuditReport(clean, checkBoundary(boundary)));
    const last = text.trimEnd().split("\n");
    expect(last.at(-1)).toBe("Live database analytics: no drift. Only declared writers and admin paths can write to prod, only listed readers can read restricted data, PUBLIC holds nothing on prod, the machinery works.");
    expect(last.at(-2)).toBe("Roster team.yaml (the declared boundary, not the database): deny rules D1–D5: all hold");
  });

  // The README's excerpts come from the default server (18).
  if (major === 18) it("renders what the README shows, on a clean sandbox and after the README's three changes", async () => {
    const lines = async () => renderLiveAudit(liveAuditReport(await audit(), checkBoundary(boundary))).split("\n");
    const clean = await lines();
    for (const line of readmeBlock("live-audit-clean")) expect(clean).toContain(line);
    try {
      await w.admin.query(`CREATE VIEW prod_sales.v AS SELECT * FROM prod_sales.sample; ALTER VIEW prod_sales.v OWNER TO prod_writer;
        GRANT SELECT ON prod_sales.v TO PUBLIC; CREATE FUNCTION bob_sales.f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
        ALTER FUNCTION bob_sales.f() OWNER TO dev_bob; CREATE TRIGGER t BEFORE INSERT ON prod_sales.sample FOR EACH ROW EXECUTE FUNCTION bob_sales.f()`);
      await asLogin(w, "carol", ["CREATE TABLE carol_finance.invoices AS SELECT * FROM prod_finance.sample", "GRANT SELECT ON carol_finance.invoices TO bob"]);
      await asLogin(w, "carol", ["GRANT USAGE ON SCHEMA carol_finance TO bob"]).catch(() => undefined);
      const drifted = await lines();
      for (const line of readmeBlock("live-audit-drift")) expect(drifted).toContain(line);
    } finally {
      await w.admin.query(`DROP VIEW IF EXISTS prod_sales.v; DROP TRIGGER IF EXISTS t ON prod_sales.sample; DROP FUNCTION IF EXISTS bob_sales.f();
        DROP TABLE IF EXISTS carol_finance.invoices; REVOKE USAGE ON SCHEMA carol_finance FROM bob`);
    }
  });

  it("reads the catalog in two queries, however many paths there are", async () => {
    let queries = 0;
    const counting = new Proxy(w.auditor, {
      get: (target, key) => (key === "query" ? (...args: unknown[]) => (queries++, (target.query as (...a: unknown[]) => unknown)(...args)) : Reflect.get(target, key)),
    });
    await auditLive(counting, boundary, { provisioner: "provisioner" });
    expect(queries).toBe(2);
  });

  // pg_maintain exists from 17 on: older servers have nothing to plant.
  for (const c of CASES.filter((c) => c.since === undefined || major >= c.since)) {
    it(c.name, async () => {
      try {
        for (const sql of c.plant(w)) await w.admin.query(sql);
        const setup = CAROL_SETUP[c.name];
        if (setup) await asLogin(w, "carol", setup);
        if (c.name.startsWith("pg_maintain")) await w.admin.query("CREATE INDEX sample_pkey_for_proof ON prod_sales.sample (id)");
        const found = await audit();
        c.expect(found);
        expect(found.drift).toBeGreaterThan(0);
        expect(renderLiveAudit(liveAuditReport(found, checkBoundary(boundary)))).toMatch(/\nLive database analytics: DRIFT, .* \(exit 1\)\.\n$/);
        if (c.attack) {
          await asLogin(w, c.attack.as, c.attack.sql(w));
          if (c.attack.then) await asLogin(w, c.attack.then.as, c.attack.then.sql);
          const proof = await w.admin.query<{ ok: boolean }>(c.proof!);
          expect(proof.rows[0]?.ok, `${c.attack.as}'s act took effect`).toBe(true);
        }
      } finally {
        for (const sql of c.undo) await w.admin.query(sql);
      }
      // Undone: back to no drift, so the next case starts clean.
      expect((await audit()).drift).toBe(0);
    }, 60_000);
  }

  it("sees the dbt-style copy: a reader copies restricted rows into her schema and grants them to a non-reader", async () => {
    try {
      await asLogin(w, "carol", ["CREATE TABLE carol_finance.invoices AS SELECT * FROM prod_finance.sample", "GRANT SELECT ON carol_finance.invoices TO bob"]);
      // dbt's post-hook: accepted, but it grants nothing ("no privileges were granted"), since the provisioner owns the
      // copy and carol holds USAGE without grant option.
      await asLogin(w, "carol", ["GRANT USAGE ON SCHEMA carol_finance TO bob"]);
      const usage = await w.admin.query<{ ok: boolean }>("SELECT has_schema_privilege('bob', 'carol_finance', 'USAGE') AS ok");
      expect(usage.rows[0]!.ok).toBe(false);
      const found = await audit();
      const bob = reads(found).find((r) => r.schema === "carol_finance" && r.principal === "bob" && r.power === "SELECT");
      expect(bob).toMatchObject({ status: "drift", objects: ["invoices"], chain: ["bob"], latent: "latent: no USAGE on carol_finance" });
      // What the audit calls latent is exactly what bob cannot read.
      await expect(asLogin(w, "bob", ["SELECT * FROM carol_finance.invoices"])).rejects.toThrow("permission denied for schema carol_finance");
    } finally {
      await w.admin.query("DROP TABLE IF EXISTS carol_finance.invoices; REVOKE USAGE ON SCHEMA carol_finance FROM bob");
    }
    expect((await audit()).drift).toBe(0);
  });

  it("reports prod_ look-alike schemas, printed quoted and escaped so they cannot pass for the real one", async () => {
    const names = ["Prod_sales", "prod_sales ", "pr\u043ed_sales", "prod\uff3fsales", "prod_sal\u200bes"];
    try {
      for (const name of names) await w.admin.query(`CREATE SCHEMA ${w.admin.escapeIdentifier(name)}`);
      const found = await audit();
      const flagged = [...found.lookalikeSchemas.map((l) => l.schema), ...found.undeclaredSchemas];
      expect(flagged.sort()).toEqual([...names].sort());
      const text = renderLiveAudit(liveAuditReport(found, checkBoundary(boundary)));
      for (const shown of ['"Prod_sales"', '"prod_sales\\u0020"', '"pr\\u043ed_sales"', '"prod\\uff3fsales"', '"prod_sal\\u200bes"']) expect(text).toContain(shown);
      // In the writers' table too: an undeclared prod_ name that differs only by a trailing space is quoted there.
      expect(text).toMatch(/\n\s*"prod_sales\\u0020" \(NOT IN ROSTER\)\s+(DRIFT|admin)/);
    } finally {
      for (const name of names) await w.admin.query(`DROP SCHEMA IF EXISTS ${w.admin.escapeIdentifier(name)}`);
    }
  });

  it("labels latent paths: a role nobody logs in as, default privileges for future tables", async () => {
    try {
      await w.admin.query("CREATE ROLE x_bridge; GRANT prod_writer TO x_bridge");
      await w.admin.query("ALTER DEFAULT PRIVILEGES FOR ROLE prod_writer IN SCHEMA prod_finance GRANT SELECT ON TABLES TO dev_bob");
      const found = await audit();
      writeDrift(found, { schema: "prod_sales", principal: "x_bridge", power: "schema owner", latent: "latent: nobody logs in as this role" });
      readDrift(found, { schema: "prod_finance", principal: "bob", power: "default privilege", latent: "latent: only tables created later" });
      expect(renderLiveAudit(liveAuditReport(found, checkBoundary(boundary)))).toContain("(latent: nobody logs in as this role)");
    } finally {
      await w.admin.query("ALTER DEFAULT PRIVILEGES FOR ROLE prod_writer IN SCHEMA prod_finance REVOKE SELECT ON TABLES FROM dev_bob");
      await w.admin.query("DROP ROLE IF EXISTS x_bridge");
    }
  });

  it("raises no false alarm for a database owned by a group role the provisioner belongs to", async () => {
    try {
      await w.admin.query(`CREATE ROLE warehouse_owners; GRANT warehouse_owners TO provisioner; ALTER DATABASE ${settings.database} OWNER TO warehouse_owners`);
      const found = await audit();
      expect(writes(found)).toContainEqual(expect.objectContaining({ principal: "warehouse_owners", power: "database owner", status: "admin" }));
      expect(found.drift).toBe(0);
    } finally {
      await w.admin.query(`ALTER DATABASE ${settings.database} OWNER TO provisioner; DROP ROLE IF EXISTS warehouse_owners`);
    }
  });

  it("reports what pulumi up cannot repair on 16+: roles the provisioner did not create, a developer schema given to someone else", async () => {
    const manage = (a: LiveAudit) => a.reads.machinery.find((c) => c.check === "the provisioner can manage every declared role")!;
    const owners = (a: LiveAudit) => a.reads.machinery.find((c) => c.check === "developer schemas belong to their developer's role, restricted copies to the provisioner")!;
    try {
      // A CREATEROLE login that created none of the roles, as after a change of postgresql:username.
      await w.admin.query("CREATE ROLE deployer LOGIN CREATEROLE; ALTER SCHEMA alice_sales OWNER TO dev_bob");
      const found = await audit({ provisioner: "deployer" });
      if (major >= 16) {
        expect(manage(found)).toMatchObject({ ok: false });
        expect(manage(found).detail).toMatch(/^deployer cannot grant, alter or drop alice, bob, carol, ci_builder, .*prod_writer.*svc_prod: on PostgreSQL 16\+ that takes ADMIN on the role/);
        // And it is so: as deployer, GRANT and ALTER ROLE on one of them are refused.
        await expect(w.admin.query("SET ROLE deployer; GRANT prod_reader TO dev_bob")).rejects.toThrow(/permission denied to grant role "prod_reader"/);
      } else {
        expect(manage(found)).toMatchObject({ ok: true });
      }
      expect(owners(found)).toMatchObject({ ok: false });
      // The restricted copies belong to the provisioner, which deployer is not.
      expect(owners(found).detail).toBe("alice_sales is owned by dev_bob, not dev_alice; carol_finance is owned by provisioner, not deployer (a restricted copy: its owner can grant USAGE on it to anyone); erin_finance is owned by provisioner, not deployer (a restricted copy: its owner can grant USAGE on it to anyone): pulumi up cannot give it back (the provider's ALTER SCHEMA … OWNER TO runs without its self-grant). Have the owner or an admin run ALTER SCHEMA alice_sales OWNER TO dev_alice; ALTER SCHEMA carol_finance OWNER TO deployer; ALTER SCHEMA erin_finance OWNER TO deployer");
      expect(found.drift).toBeGreaterThan(0);
    } finally {
      await w.admin.query("RESET ROLE; ALTER SCHEMA alice_sales OWNER TO dev_alice; DROP ROLE IF EXISTS deployer");
    }
  });

  it("reports a restricted copy handed to its developer's role, whose owner could share it", async () => {
    const owners = (a: LiveAudit) => a.reads.machinery.find((c) => c.check === "developer schemas belong to their developer's role, restricted copies to the provisioner")!;
    try {
      await w.admin.query("ALTER SCHEMA carol_finance OWNER TO dev_carol");
      const found = await audit();
      expect(owners(found)).toMatchObject({ ok: false });
      expect(owners(found).detail).toMatch(/^carol_finance is owned by dev_carol, not provisioner \(a restricted copy: its owner can grant USAGE on it to anyone\): .* ALTER SCHEMA carol_finance OWNER TO provisioner$/);
      expect(found.drift).toBeGreaterThan(0);
    } finally {
      await w.admin.query("ALTER SCHEMA carol_finance OWNER TO provisioner");
    }
    expect(owners(await audit())).toMatchObject({ ok: true });
  });

  it("checks --provisioner against the catalog, and the machinery: a provisioner that cannot grant itself ci_builder breaks ci.create_schema", async () => {
    await expect(audit({ provisioner: "no_such_role" })).rejects.toThrow(UnknownProvisionerError);
    try {
      // Before 16 CREATEROLE lets it grant any role; from 16 it does not help for ci_builder, which deployer did not create.
      await w.admin.query(`CREATE ROLE deployer LOGIN ${major >= 16 ? "CREATEROLE" : ""}; GRANT CREATE ON DATABASE ${settings.database} TO deployer;
                           GRANT USAGE ON SCHEMA ci TO deployer; ALTER FUNCTION ci.create_schema(text, text) OWNER TO deployer`);
      const found = await audit({ provisioner: "deployer" });
      expect(found.reads.machinery.find((c) => c.check === "the provisioner can grant itself ci_builder")).toMatchObject({ ok: false });
      expect(found.reads.machinery.find((c) => c.check === "ci.create_schema belongs to the provisioner")).toMatchObject({ ok: true });
      const text = renderLiveAudit(liveAuditReport(found, checkBoundary(boundary)));
      expect(text).toContain("DRIFT: machinery: deployer cannot grant itself ci_builder: ci.create_schema fails. On PostgreSQL 16+ the provisioner must hold ci_builder WITH ADMIN OPTION");
      // And it does fail, for the CI login.
      await expect(asLogin(w, "svc_ci", ["SELECT ci.create_schema('machinery', 'sales')"])).rejects.toThrow(/ci_builder/);
      // What the detail says to do is enough, and the check then passes.
      await w.admin.query(major >= 16 ? "GRANT ci_builder TO deployer WITH ADMIN OPTION, SET FALSE, INHERIT FALSE" : "ALTER ROLE deployer CREATEROLE");
      expect((await audit({ provisioner: "deployer" })).reads.machinery.find((c) => c.check === "the provisioner can grant itself ci_builder")).toMatchObject({ ok: true });
      await asLogin(w, "svc_ci", ["SELECT ci.create_schema('machinery', 'sales')"]);
      expect((await w.admin.query("SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = 'ci_machinery_sales'")).rows).toEqual([{ owner: "ci_builder" }]);
    } finally {
      await w.admin.query("DROP SCHEMA IF EXISTS ci_machinery_sales");
      await w.admin.query(`ALTER FUNCTION ci.create_schema(text, text) OWNER TO provisioner; REVOKE CREATE ON DATABASE ${settings.database} FROM deployer;
                           REVOKE USAGE ON SCHEMA ci FROM deployer; DROP ROLE IF EXISTS deployer`);
    }
  });
});
