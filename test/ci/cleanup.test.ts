import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupCiSchemas, formatAge, parseAge, type CleanupResult } from "../../infra/ci/cleanup";
import { CiSchemaTaken, ciSchemaNameFor, type CiSchema, createCiSchema, createdMarker, parseCreatedMarker } from "../../infra/ci/schema";
import { ciCreateSchemaBody } from "../../infra/platforms/postgres";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../../infra/sandbox/server";
import { runCommand } from "../support/commands";

// CI schemas on a real server: the program's ci.create_schema (installed here with the program's own body, owned by a
// non-superuser provisioner) records when each was made, and cleanup drops only the stale ones that are named ci_,
// owned by ci_builder and carry that record. Everything else is listed with its reason and kept.

const DATABASE = "analytics";
const SVC_CI = { user: "svc_ci", password: "ci-login-pw-4c1f" };
const ALICE = { user: "alice", password: "alice-login-pw-9d2e" };
let server: ThrowawayPostgres;
let admin: pg.Client;

const HOUR = 3_600_000;
const hoursAgo = (hours: number) => new Date(Date.now() - hours * HOUR);

beforeAll(async () => {
  server = await startThrowawayPostgres();
  await server.createDatabase(DATABASE);
  admin = await server.client(DATABASE);
  await admin.query(`
    CREATE ROLE ci_builder;
    CREATE ROLE dev_alice;
    CREATE ROLE provisioner IN ROLE ci_builder;
    CREATE ROLE svc_ci LOGIN PASSWORD '${SVC_CI.password}' IN ROLE ci_builder;
    CREATE ROLE alice LOGIN PASSWORD '${ALICE.password}' IN ROLE dev_alice;
    GRANT CREATE ON DATABASE ${DATABASE} TO provisioner;
    CREATE SCHEMA prod_sales AUTHORIZATION provisioner;
    CREATE SCHEMA prod_finance AUTHORIZATION provisioner;
    CREATE SCHEMA ci AUTHORIZATION provisioner;
    GRANT USAGE ON SCHEMA ci TO ci_builder;
    SET ROLE provisioner;
    CREATE FUNCTION ci.create_schema(run text, domain text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER VOLATILE
      AS $fn$${ciCreateSchemaBody("ci_", "ci_builder")}$fn$;
    REVOKE ALL ON FUNCTION ci.create_schema(text, text) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION ci.create_schema(text, text) TO ci_builder;
    RESET ROLE;`);
}, 60_000);

afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

/** The catalog as the test sets it up by hand: a schema with an owner and, maybe, a comment. */
async function schema(name: string, owner: string, comment?: string, withTable = false): Promise<void> {
  await admin.query(`CREATE SCHEMA ${name} AUTHORIZATION ${owner}`);
  if (comment !== undefined) await admin.query(`COMMENT ON SCHEMA ${name} IS ${admin.escapeLiteral(comment)}`);
  if (withTable) await admin.query(`CREATE TABLE ${name}.model (id int); ALTER TABLE ${name}.model OWNER TO ${owner}`);
}

async function schemas(): Promise<string[]> {
  const result = await admin.query<{ name: string }>("SELECT nspname AS name FROM pg_namespace WHERE nspname !~ '^(pg_|information_schema$|public$)' ORDER BY 1");
  return result.rows.map((r) => r.name);
}

async function as(login: { user: string; password: string }): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: server.url(DATABASE, login) });
  await client.connect();
  return client;
}

describe("the creation marker", () => {
  it("reads what the helper writes, and nothing else", () => {
    const at = new Date("2025-01-31T09:15:00.123Z");
    expect(createdMarker(at)).toBe("warehouse-access:created=2025-01-31T09:15:00.123Z");
    expect(parseCreatedMarker(createdMarker(at))).toEqual(at);
    expect(parseCreatedMarker(`nightly build\n${createdMarker(at)}`)).toEqual(at);
    expect(parseCreatedMarker(null)).toBe("none");
    expect(parseCreatedMarker("made by hand")).toBe("none");
    expect(parseCreatedMarker("warehouse-access:created=yesterday")).toBe("unreadable");
    expect(parseCreatedMarker("warehouse-access:created=2025-01-31 09:15")).toBe("unreadable");
  });

  it("parses thresholds and refuses the rest", () => {
    expect([parseAge("90m"), parseAge("24h"), parseAge("2d"), parseAge("1w"), parseAge("30s")]).toEqual([5_400, 86_400, 172_800, 604_800, 30]);
    for (const bad of ["24", "0h", "-1h", "1.5h", "h", "24 hours", ""]) expect(() => parseAge(bad), bad).toThrow(RangeError);
    expect([formatAge(120), formatAge(26 * 3_600), formatAge(3.5 * 86_400)]).toEqual(["2m", "26.0h", "3.5d"]);
  });

  it("checks the run and domain that make the name", () => {
    expect(ciSchemaNameFor("1234", "sales")).toBe("ci_1234_sales");
    expect(() => ciSchemaNameFor("Run-1", "sales")).toThrow(/--run "Run-1"/);
    // ci_42_eu_sales would be run 42_eu's sales and run 42's eu_sales.
    expect(() => ciSchemaNameFor("42_eu", "sales")).toThrow('--run "42_eu": use lowercase letters and digits, no underscore (a CI run number or id)');
    expect(() => ciSchemaNameFor("1", "Sales")).toThrow(/--domain "Sales"/);
    expect(() => ciSchemaNameFor("9".repeat(60), "sales")).toThrow(/at most 63/);
  });
});

describe("createCiSchema, as the CI login", () => {
  it("creates the schema owned by ci_builder with the server's time, and keeps that time on a re-run", async () => {
    const ci = await as(SVC_CI);
    try {
      const before = Date.now();
      const made = await createCiSchema(ci, "500", "sales");
      expect(made).toMatchObject({ schema: "ci_500_sales", owner: "ci_builder", created: true });
      expect(Math.abs(Date.parse(made.createdAt) - before)).toBeLessThan(60_000);
      const again = await createCiSchema(ci, "500", "sales");
      expect(again).toEqual({ ...made, created: false });
      const row = await admin.query<{ owner: string; comment: string }>(
        "SELECT pg_get_userbyid(nspowner) AS owner, obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = 'ci_500_sales'",
      );
      expect(row.rows[0]!.owner).toBe("ci_builder");
      expect(parseCreatedMarker(row.rows[0]!.comment)).toEqual(new Date(made.createdAt));
    } finally {
      await ci.end();
      await admin.query("DROP SCHEMA ci_500_sales");
    }
  });

  it("refuses a name taken by a schema it did not make", async () => {
    await schema("ci_501_sales", "ci_builder");
    const ci = await as(SVC_CI);
    try {
      await expect(createCiSchema(ci, "501", "sales")).rejects.toThrow(CiSchemaTaken);
      // The function itself refuses it too: ci_builder's, but with no creation marker, so cleanup could never date it.
      await expect(ci.query("SELECT ci.create_schema('501', 'sales')")).rejects.toThrow(/not made by ci.create_schema \(owner ci_builder\)/);
      // And a name another role holds, whoever calls it.
      await admin.query("ALTER SCHEMA ci_501_sales OWNER TO dev_alice");
      await expect(ci.query("SELECT ci.create_schema('501', 'sales')")).rejects.toThrow(/not made by ci.create_schema \(owner dev_alice\)/);
    } finally {
      await ci.end();
      await admin.query("DROP SCHEMA ci_501_sales");
    }
  });

  it("is what `npm run ci-schema` runs", async () => {
    const made = await runCommand("ci-schema", ["--live", server.url(DATABASE, SVC_CI), "--run", "777", "--domain", "sales"]);
    try {
      expect(made.stderr).toBe("");
      expect(made.status).toBe(0);
      expect(made.stdout).toMatch(/^created ci_777_sales \(owner ci_builder, created \d{4}-\d\d-\d\dT[\d:.]+Z\)\n$/);
      const bad = await runCommand("ci-schema", ["--live", server.url(DATABASE, SVC_CI), "--run", "777", "--domain", "Sales"]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('--domain "Sales"');
    } finally {
      await admin.query("DROP SCHEMA IF EXISTS ci_777_sales");
    }
  });

  it("creates every domain named, one --domain each, in one call", async () => {
    const made = await runCommand("ci-schema", ["--live", server.url(DATABASE, SVC_CI), "--run", "778", "--domain", "sales", "--domain", "finance", "--json"]);
    try {
      expect(made.stderr).toBe("");
      expect(made.status).toBe(0);
      expect((JSON.parse(made.stdout) as CiSchema[]).map((s) => [s.schema, s.owner, s.created])).toEqual([
        ["ci_778_sales", "ci_builder", true], ["ci_778_finance", "ci_builder", true],
      ]);
      expect(await schemas()).toEqual(expect.arrayContaining(["ci_778_sales", "ci_778_finance"]));
    } finally {
      await admin.query("DROP SCHEMA IF EXISTS ci_778_sales; DROP SCHEMA IF EXISTS ci_778_finance");
    }
  });

  it("--all creates one for each domain CI reads, and names the restricted one it leaves out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ci-schema-"));
    const roster = join(dir, "team.yaml");
    writeFileSync(roster, [
      "domains: [{ name: sales }, { name: finance, restricted: true, readers: [alice] }]",
      "developers: [{ name: alice, email: alice@acme.example }]",
      "service_accounts: [{ name: svc_prod, purpose: prod }]",
    ].join("\n"));
    try {
      const made = await runCommand("ci-schema", ["--live", server.url(DATABASE, SVC_CI), "--run", "779", "--all", "--roster", roster]);
      expect(made.stderr).toBe("");
      expect(made.status).toBe(0);
      const lines = made.stdout.split("\n").filter(Boolean);
      expect(lines[0]).toBe(`left out finance: restricted, and CI is none of the readers in ${roster}`);
      expect(lines.slice(1).map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual(["created ci_779_sales"]);
      expect(await schemas()).not.toContain("ci_779_finance");
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await admin.query("DROP SCHEMA IF EXISTS ci_779_sales; DROP SCHEMA IF EXISTS ci_779_finance");
    }
  });

  it("cleanup-ci --run drops exactly that run's schemas, new as they are, and not run 900_x's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cleanup-run-"));
    const roster = join(dir, "team.yaml");
    writeFileSync(roster, [
      "domains: [{ name: sales }, { name: finance }]",
      "developers: [{ name: alice, email: alice@acme.example }]",
      "service_accounts: [{ name: svc_prod, purpose: prod }]",
    ].join("\n"));
    const ci = await as(SVC_CI);
    try {
      await createCiSchema(ci, "900", "sales");
      await createCiSchema(ci, "900", "finance");
      await schema("ci_900_x_sales", "ci_builder", createdMarker(new Date()));
      const run = await runCommand("cleanup-ci", ["--live", server.url(DATABASE, SVC_CI), "--run", "900", "--roster", roster]);
      expect([run.status, run.stderr]).toEqual([0, ""]);
      expect(run.stdout).toContain("  dropped ci_900_finance\n  dropped ci_900_sales\nDropped 2 of 2 schemas; 0 left alone.\n");
      expect(await schemas()).not.toEqual(expect.arrayContaining(["ci_900_sales"]));
      expect(await schemas()).toContain("ci_900_x_sales");
      const both = await runCommand("cleanup-ci", ["--live", server.url(DATABASE, SVC_CI), "--run", "900", "--older-than", "1h"]);
      expect([both.status, both.stderr]).toEqual([2, "cleanup-ci: give --older-than AGE (stale schemas) or --run RUN (one run's schemas), not both\n"]);
    } finally {
      await ci.end();
      rmSync(dir, { recursive: true, force: true });
      await admin.query("DROP SCHEMA IF EXISTS ci_900_sales; DROP SCHEMA IF EXISTS ci_900_finance; DROP SCHEMA ci_900_x_sales");
    }
  }, 120_000);

  it("checks every domain before it creates any, and refuses --all with --domain or neither", async () => {
    const live = ["--live", server.url(DATABASE, SVC_CI), "--run", "780"];
    const bad = await runCommand("ci-schema", [...live, "--domain", "sales", "--domain", "Fin"]);
    expect([bad.status, bad.stderr]).toEqual([2, 'ci-schema: --domain "Fin": a domain is lowercase letters, digits and underscores, starting with a letter\n']);
    const both = await runCommand("ci-schema", [...live, "--domain", "sales", "--all"]);
    expect([both.status, both.stderr]).toEqual([2, "ci-schema: give --domain (repeatable) or --all, not both\n"]);
    const neither = await runCommand("ci-schema", live);
    expect(neither.status).toBe(2);
    expect(neither.stderr).toContain("name the domains: --domain sales");
    expect(await schemas()).not.toContain("ci_780_sales");
  }, 120_000);

  it("stops at a domain with no prod schema, listing what it made", async () => {
    const made = await runCommand("ci-schema", ["--live", server.url(DATABASE, SVC_CI), "--run", "781", "--domain", "sales", "--domain", "nosuch"]);
    try {
      expect(made.status).toBe(2);
      expect(made.stdout).toMatch(/^created ci_781_sales /);
      expect(made.stderr).toContain("no domain nosuch: CI schemas are made only for domains with a prod schema");
    } finally {
      await admin.query("DROP SCHEMA IF EXISTS ci_781_sales");
    }
  });
});

describe("cleanup-ci", () => {
  const STALE = ["ci_101_sales", "ci_107_finance"];
  beforeAll(async () => {
    await schema("ci_101_sales", "ci_builder", createdMarker(hoursAgo(72)), true);
    await schema("ci_107_finance", "ci_builder", `nightly\n${createdMarker(hoursAgo(25))}`);
    await schema("ci_102_sales", "ci_builder", createdMarker(hoursAgo(2)));
    await schema("ci_103_sales", "dev_alice", createdMarker(hoursAgo(72)));
    await schema("ci_104_sales", "ci_builder");
    await schema("ci_105_sales", "ci_builder", "warehouse-access:created=yesterday");
    // Not ci_ schemas, however old and whoever owns them.
    await schema("alice_sales", "ci_builder", createdMarker(hoursAgo(72)));
    await schema("cix_old", "ci_builder", createdMarker(hoursAgo(72)));
    const ci = await as(SVC_CI);
    await createCiSchema(ci, "106", "sales");
    await ci.end();
  });

  const EXPECTED_PLAN = [
    { schema: "ci_101_sales", owner: "ci_builder", action: "drop", reason: "created 3.0d ago" },
    { schema: "ci_102_sales", owner: "ci_builder", action: "keep", reason: "created 2.0h ago: not older than 24.0h" },
    { schema: "ci_103_sales", owner: "dev_alice", action: "skip", reason: "owned by dev_alice, not ci_builder" },
    { schema: "ci_104_sales", owner: "ci_builder", action: "skip", reason: "no creation marker (warehouse-access:created=...) in its comment: age unknown" },
    { schema: "ci_105_sales", owner: "ci_builder", action: "skip", reason: "its creation marker is not a UTC ISO time: age unknown" },
    { schema: "ci_106_sales", owner: "ci_builder", action: "keep", reason: "created 0m ago: not older than 24.0h" },
    { schema: "ci_107_finance", owner: "ci_builder", action: "drop", reason: "created 25.0h ago" },
  ];

  it("--dry-run lists every ci_ schema with what it would do and why, and drops nothing", async () => {
    const before = await schemas();
    const run = await runCommand("cleanup-ci", ["--live", server.url(DATABASE, SVC_CI), "--older-than", "24h", "--dry-run", "--json"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as CleanupResult & { target: string };
    expect(result.dryRun).toBe(true);
    expect(result.target).toBe(`postgresql://svc_ci:***@127.0.0.1:${server.port}/analytics`);
    expect(result.schemas.map(({ schema, owner, action, reason }) => ({ schema, owner, action, reason }))).toEqual(EXPECTED_PLAN);
    expect(run.stdout).not.toContain(SVC_CI.password);
    expect(await schemas()).toEqual(before);
  });

  it("prints the plan as text for people", async () => {
    const run = await runCommand("cleanup-ci", ["--live", server.url(DATABASE, SVC_CI), "--older-than", "24h", "--dry-run"]);
    expect(run.status).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^CI schemas at postgresql:\/\/svc_ci:\*\*\*@127\.0\.0\.1:\d+\/analytics: stale means ci_builder's and created before \S+Z \(older than 24\.0h\)$/);
    expect(lines).toContain("  drop  ci_101_sales    ci_builder  created 3.0d ago");
    expect(lines).toContain("  skip  ci_103_sales    dev_alice   owned by dev_alice, not ci_builder");
    expect(run.stdout).toContain("Dry run: would drop 2 schemas; 5 left alone. Nothing was dropped.");
  });

  it("exits 1 when a drop fails, and still tries the others", async () => {
    // alice is no member of ci_builder, so PostgreSQL refuses each drop: both are reported, none is dropped.
    const run = await runCommand("cleanup-ci", ["--live", server.url(DATABASE, ALICE), "--older-than", "24h"]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("  NOT dropped ci_101_sales: must be owner of schema ci_101_sales");
    expect(run.stdout).toContain("  NOT dropped ci_107_finance: must be owner of schema ci_107_finance");
    expect(run.stdout).toContain("Dropped 0 of 2 stale schemas; 5 left alone.");
    expect(await schemas()).toEqual(expect.arrayContaining(STALE));
  });

  it("drops exactly the stale ones, with what is in them, as the CI login", async () => {
    const before = await schemas();
    const run = await runCommand("cleanup-ci", ["--live", server.url(DATABASE, SVC_CI), "--older-than", "24h"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("  dropped ci_101_sales\n  dropped ci_107_finance\nDropped 2 of 2 stale schemas; 5 left alone.\n");
    expect(await schemas()).toEqual(before.filter((name) => !STALE.includes(name)));
    const tables = await admin.query("SELECT 1 FROM pg_class WHERE relname = 'model'");
    expect(tables.rowCount).toBe(0);
  });

  it("leaves alone a stale schema that objects elsewhere depend on, since CASCADE would drop them too", async () => {
    await schema("ci_110_sales", "ci_builder", createdMarker(hoursAgo(48)), true);
    await admin.query("CREATE SCHEMA IF NOT EXISTS alice_reports; CREATE VIEW alice_reports.on_ci AS SELECT id FROM ci_110_sales.model");
    const ci = await as(SVC_CI);
    try {
      const result = await cleanupCiSchemas(ci, { olderThanSeconds: 86_400, dryRun: false });
      expect(result.schemas.find((v) => v.schema === "ci_110_sales")).toMatchObject({
        dropped: false, error: "objects in alice_reports depend on it (CASCADE would drop them): left alone",
      });
    } finally {
      await ci.end();
    }
    expect(await schemas()).toContain("ci_110_sales");
    expect((await admin.query("SELECT 1 FROM pg_views WHERE schemaname = 'alice_reports' AND viewname = 'on_ci'")).rowCount).toBe(1);
    await admin.query("DROP SCHEMA alice_reports CASCADE; DROP SCHEMA ci_110_sales CASCADE");
  });

  /** A CI schema as dbt leaves it: made by ci.create_schema as the CI login, then stamped as made `hours` ago. */
  async function builtCiSchema(run: string, hours: number): Promise<string> {
    const ci = await as(SVC_CI);
    const name = ciSchemaNameFor(run, "sales");
    try {
      await createCiSchema(ci, run, "sales");
      await ci.query(`
        CREATE TABLE ${name}.orders (id bigserial PRIMARY KEY, customer text NOT NULL, amount numeric(12, 2), payload jsonb);
        CREATE INDEX ON ${name}.orders (customer);
        CREATE TABLE ${name}.customers (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text UNIQUE);
        ALTER TABLE ${name}.orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer) REFERENCES ${name}.customers (name);
        CREATE SEQUENCE ${name}.batch_seq;
        CREATE TYPE ${name}.status AS ENUM ('open', 'paid');
        CREATE VIEW ${name}.big_orders AS SELECT id, amount FROM ${name}.orders WHERE amount > 100;
        CREATE MATERIALIZED VIEW ${name}.totals AS SELECT customer, sum(amount) AS total FROM ${name}.orders GROUP BY customer;
        CREATE FUNCTION ${name}.cents(numeric) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT ($1 * 100)::bigint';
        INSERT INTO ${name}.customers (name) VALUES (repeat('x', 5000));`);
    } finally {
      await ci.end();
    }
    await admin.query(`COMMENT ON SCHEMA ${name} IS ${admin.escapeLiteral(createdMarker(hoursAgo(hours)))}`);
    return name;
  }

  const ciSchemaState = (name: string) =>
    admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1", [name]).then((r) => r.rows[0]!.n === 1);

  it("drops a CI schema with what dbt builds (TOAST, indexes, owned sequences, types, views), as the CI login", async () => {
    const name = await builtCiSchema("120", 48);
    const toast = await admin.query("SELECT 1 FROM pg_class WHERE relnamespace = $1::regnamespace AND reltoastrelid <> 0", [name]);
    expect(toast.rowCount).toBeGreaterThan(0);
    const ci = await as(SVC_CI);
    try {
      const result = await cleanupCiSchemas(ci, { olderThanSeconds: 86_400, dryRun: false });
      expect(result.schemas.find((v) => v.schema === name)).toMatchObject({ action: "drop", dropped: true });
    } finally {
      await ci.end();
    }
    expect(await ciSchemaState(name)).toBe(false);
  });

  describe.each([
    ["a view", (ci: string) => `CREATE VIEW elsewhere.v AS SELECT id FROM ${ci}.orders`],
    ["a foreign key", (ci: string) => `CREATE TABLE elsewhere.t (customer text REFERENCES ${ci}.customers (name))`],
    ["a column default on its sequence", (ci: string) => `CREATE TABLE elsewhere.t (n bigint DEFAULT nextval('${ci}.batch_seq'))`],
    ["a column of its type", (ci: string) => `CREATE TABLE elsewhere.t (s ${ci}.status)`],
    ["a function over its row type", (ci: string) => `CREATE FUNCTION elsewhere.f(${ci}.orders) RETURNS int LANGUAGE sql AS 'SELECT 1'`],
  ])("with %s in another schema depending on it", (_what, dependent) => {
    it("leaves it alone, and the dependent with it", async () => {
      const name = await builtCiSchema("121", 48);
      await admin.query(`CREATE SCHEMA elsewhere; ${dependent(name)}`);
      const ci = await as(SVC_CI);
      try {
        const result = await cleanupCiSchemas(ci, { olderThanSeconds: 86_400, dryRun: false });
        expect(result.schemas.find((v) => v.schema === name)).toMatchObject({
          dropped: false, error: "objects in elsewhere depend on it (CASCADE would drop them): left alone",
        });
        expect(await ciSchemaState(name)).toBe(true);
        expect((await admin.query("SELECT 1 FROM pg_depend WHERE refobjid = 'elsewhere'::regnamespace")).rowCount).toBeGreaterThan(0);
      } finally {
        await ci.end();
        await admin.query(`DROP SCHEMA elsewhere CASCADE; DROP SCHEMA ${name} CASCADE`);
      }
    });
  });

  it("leaves alone a schema that changed after it was listed", async () => {
    await schema("ci_108_sales", "ci_builder", createdMarker(hoursAgo(48)));
    await schema("ci_109_sales", "ci_builder", createdMarker(hoursAgo(48)));
    const ci = await as(SVC_CI);
    try {
      const result = await cleanupCiSchemas(ci, {
        olderThanSeconds: 86_400,
        dryRun: false,
        // Between listing and dropping ci_109_sales, another job re-creates it: its marker no longer matches.
        onDrop: async (verdict) => {
          if (verdict.schema === "ci_108_sales") await admin.query(`COMMENT ON SCHEMA ci_109_sales IS ${admin.escapeLiteral(createdMarker(new Date()))}`);
        },
      });
      expect(result.schemas.filter((v) => v.action === "drop").map((v) => [v.schema, v.dropped, v.error])).toEqual([
        ["ci_108_sales", true, undefined],
        ["ci_109_sales", false, "changed since it was listed: left alone"],
      ]);
    } finally {
      await ci.end();
    }
    expect(await schemas()).not.toContain("ci_108_sales");
    expect(await schemas()).toContain("ci_109_sales");
  });
});
