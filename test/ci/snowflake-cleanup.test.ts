import { describe, expect, it } from "vitest";
import { sessionOf } from "../../infra/audit/snowflake/session";
import { cleanupSnowflakeCiSchemas } from "../../infra/ci/snowflake-cleanup";
import { FakeSnowflakeAccount } from "../audit/snowflake/fake-account";
import { runCommand } from "../support/commands";

// cleanup-ci on Snowflake keeps PostgreSQL's guarantees: only CI_BUILDER's CI_ schemas with CREATE_CI_SCHEMA's
// creation marker, older than the threshold, each looked up again right before its DROP ... RESTRICT; --dry-run drops
// nothing. The account answers SHOW SCHEMAS, SYSDATE() and DROP SCHEMA as Snowflake documents them.

const DATABASE = "ANALYTICS";
const HOUR = 3_600_000;
const NOW = new Date("2026-12-01T20:00:00Z");
const marker = (hoursAgo: number) => `warehouse-access:created=${new Date(NOW.getTime() - hoursAgo * HOUR).toISOString().replace(/\.\d{3}Z$/, "Z")}`;

function account(): FakeSnowflakeAccount {
  const a = new FakeSnowflakeAccount(DATABASE);
  a.now = NOW;
  a.schemas.push(
    { database: DATABASE, name: "CI_100_SALES", owner: "CI_BUILDER", managedAccess: false, transient: true, comment: marker(30) },
    { database: DATABASE, name: "CI_101_SALES", owner: "CI_BUILDER", managedAccess: false, transient: true, comment: marker(2) },
    { database: DATABASE, name: "CI_102_SALES", owner: "DEV_ALICE", managedAccess: false, comment: marker(30) },
    { database: DATABASE, name: "CI_103_SALES", owner: "CI_BUILDER", managedAccess: false, comment: "made by hand" },
    { database: DATABASE, name: "CI_104_SALES", owner: "CI_BUILDER", managedAccess: false, transient: true, comment: marker(50) },
    // SHOW's LIKE is case-insensitive and _ matches anything: neither is a CI schema.
    { database: DATABASE, name: "CIX_STAGING", owner: "CI_BUILDER", managedAccess: false, comment: marker(50) },
    { database: DATABASE, name: "PROD_SALES", owner: "WAREHOUSE_PROVISIONER", managedAccess: true },
  );
  return a;
}

const verdicts = (result: Awaited<ReturnType<typeof cleanupSnowflakeCiSchemas>>) =>
  Object.fromEntries(result.schemas.map((v) => [v.schema, [v.action, v.reason]]));

describe("cleanup-ci on Snowflake", () => {
  it("drops only CI_BUILDER's marked CI_ schemas older than the threshold, and says why it keeps the rest", async () => {
    const a = account();
    const result = await cleanupSnowflakeCiSchemas(sessionOf(a.connection()), DATABASE, { olderThanSeconds: 24 * 3_600, dryRun: false });
    expect(verdicts(result)).toEqual({
      CI_100_SALES: ["drop", "created 30.0h ago"],
      CI_101_SALES: ["keep", "created 2.0h ago: not older than 24.0h"],
      CI_102_SALES: ["skip", "owned by DEV_ALICE, not CI_BUILDER"],
      CI_103_SALES: ["skip", "no creation marker (warehouse-access:created=...) in its comment: age unknown"],
      CI_104_SALES: ["drop", "created 2.1d ago"],
    });
    expect(a.dropped).toEqual(["CI_100_SALES", "CI_104_SALES"]);
    expect(result.now).toBe(NOW.toISOString());
  });

  it("leaves a restricted CI copy to the provisioner's role, which drops it (and, through the roll-up, CI_BUILDER's)", async () => {
    const withCopy = () => {
      const a = account();
      a.schemas.push({ database: DATABASE, name: "CI_105_FINANCE", owner: "WAREHOUSE_PROVISIONER", managedAccess: true, transient: true, comment: marker(30) });
      return a;
    };
    const asCi = withCopy();
    const byCi = await cleanupSnowflakeCiSchemas(sessionOf(asCi.connection()), DATABASE, { olderThanSeconds: 24 * 3_600, dryRun: false });
    expect(verdicts(byCi).CI_105_FINANCE).toEqual(["skip", "owned by WAREHOUSE_PROVISIONER, not CI_BUILDER"]);
    expect(asCi.dropped).toEqual(["CI_100_SALES", "CI_104_SALES"]);

    const asProvisioner = withCopy();
    asProvisioner.sessionRole = "WAREHOUSE_PROVISIONER";
    asProvisioner.grantRole("CI_BUILDER", "ROLE", "WAREHOUSE_PROVISIONER");
    const byProvisioner = await cleanupSnowflakeCiSchemas(sessionOf(asProvisioner.connection()), DATABASE, { olderThanSeconds: 24 * 3_600, dryRun: false });
    expect(verdicts(byProvisioner).CI_102_SALES).toEqual(["skip", "owned by DEV_ALICE, not CI_BUILDER"]);
    expect(asProvisioner.dropped).toEqual(["CI_100_SALES", "CI_104_SALES", "CI_105_FINANCE"]);

    // Without the roll-up the provisioner's role may not drop CI_BUILDER's schemas: Snowflake says so, and it is recorded.
    const noRollUp = withCopy();
    noRollUp.sessionRole = "WAREHOUSE_PROVISIONER";
    const refused = await cleanupSnowflakeCiSchemas(sessionOf(noRollUp.connection()), DATABASE, { olderThanSeconds: 24 * 3_600, dryRun: false });
    expect(noRollUp.dropped).toEqual(["CI_105_FINANCE"]);
    expect(refused.schemas.find((v) => v.schema === "CI_100_SALES")).toMatchObject({ dropped: false, error: expect.stringMatching(/Insufficient privileges to operate on schema 'CI_100_SALES'/) });
  });

  it("with --dry-run lists the same and drops nothing", async () => {
    const a = account();
    const result = await cleanupSnowflakeCiSchemas(sessionOf(a.connection()), DATABASE, { olderThanSeconds: 24 * 3_600, dryRun: true });
    expect(result.schemas.filter((v) => v.action === "drop").map((v) => v.schema)).toEqual(["CI_100_SALES", "CI_104_SALES"]);
    expect(a.dropped).toEqual([]);
    expect(a.statements.some((s) => s.startsWith("DROP"))).toBe(false);
  });

  it("looks each schema up again before its drop and leaves one that changed hands or vanished", async () => {
    const a = account();
    const result = await cleanupSnowflakeCiSchemas(sessionOf(a.connection()), DATABASE, {
      olderThanSeconds: 24 * 3_600,
      dryRun: false,
      // After the first drop, someone takes the second schema over; a third run could have dropped it instead.
      onDrop: (v) => {
        if (v.schema === "CI_100_SALES") a.schemas.find((s) => s.name === "CI_104_SALES")!.owner = "DEV_BOB";
      },
    });
    expect(a.dropped).toEqual(["CI_100_SALES"]);
    expect(result.schemas.find((v) => v.schema === "CI_104_SALES")).toMatchObject({ dropped: false, error: "changed since it was listed: left alone" });
  });

  it("records a schema DROP ... RESTRICT leaves (foreign keys from elsewhere) as not dropped, and goes on", async () => {
    const a = account();
    a.dropRefusal = (s) => s.name === "CI_100_SALES";
    const result = await cleanupSnowflakeCiSchemas(sessionOf(a.connection()), DATABASE, { olderThanSeconds: 24 * 3_600, dryRun: false });
    expect(result.schemas.find((v) => v.schema === "CI_100_SALES")).toMatchObject({ dropped: false, error: expect.stringMatching(/referenced by foreign keys/) });
    expect(a.dropped).toEqual(["CI_104_SALES"]);
  });

  it("refuses a SHOW SCHEMAS result of another shape instead of finding nothing to drop", async () => {
    const a = account();
    a.reshape = (sql, r) => (sql.startsWith("SHOW SCHEMAS") ? { ...r, columns: r.columns.filter((c) => c.name !== "owner") } : r);
    await expect(cleanupSnowflakeCiSchemas(sessionOf(a.connection()), DATABASE, { olderThanSeconds: 3_600, dryRun: false })).rejects.toThrow(/SHOW SCHEMAS LIKE 'CI_%' IN DATABASE "ANALYTICS": no column owner/);
    expect(a.dropped).toEqual([]);
  });
});

describe("npm run cleanup-ci -- --live snowflake", () => {
  it("exits 2 with one line naming the variables when there is no key, and prints no key material", async () => {
    const run = await runCommand("cleanup-ci", ["--live", "snowflake", "--older-than", "24h"], { env: { SNOWFLAKE_PRIVATE_KEY: "", SNOWFLAKE_PRIVATE_KEY_PATH: "" } });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("cleanup-ci: no private key: set SNOWFLAKE_PRIVATE_KEY (PEM) or SNOWFLAKE_PRIVATE_KEY_PATH, and SNOWFLAKE_PRIVATE_KEY_PASSPHRASE if it is encrypted\n");
  });
});
