import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupCiSchemas, formatAge, parseAge, type CleanupResult } from "../../infra/ci/cleanup";
import { CiSchemaTaken, ciSchemaNameFor, createCiSchema, createdMarker, parseCreatedMarker } from "../../infra/ci/schema";
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
