import { readFileSync } from "node:fs";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import { checkBoundary } from "../../infra/boundary/rules";
import { auditLive } from "../../infra/audit/live";
import { cleanupCiSchemas } from "../../infra/ci/cleanup";
import { createCiSchema } from "../../infra/ci/schema";
import { declareResources } from "../../infra/platforms/declare";
import { Sandbox, type Seeded } from "../../infra/sandbox/setup";
import { parseRosterText } from "../support/arbitraries";
import { REPO_ROOT } from "../support/shipped";
import { sandboxSettings, shippedProvider } from "./support";

// CI and a restricted domain on a real PostgreSQL, applied by the non-superuser provisioner: as shipped, CI is not
// among finance's readers, so ci.create_schema refuses finance and names the roster change; with svc_ci listed, CI reads
// prod_finance, and its ci_<run>_finance is a restricted copy that no CI run can share.

const settings = sandboxSettings();
const shippedText = readFileSync(`${REPO_ROOT}/team.yaml`, "utf8");
const withCiText = shippedText.replace("readers: [carol, erin]", "readers: [carol, erin, svc_ci]");
const shipped = buildBoundary(parseRosterText(shippedText));
const withCi = buildBoundary(parseRosterText(withCiText));
let sandbox: Sandbox;
let seeded: Seeded;
let admin: pg.Client;

const as = async <T>(login: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = await sandbox.sessionsFor(seeded)(login);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};
const failure = (promise: Promise<unknown>): Promise<string> => promise.then(() => "succeeded", (e: Error) => e.message);

beforeAll(async () => {
  sandbox = await Sandbox.start(settings.database, shippedProvider());
  await sandbox.up(declareResources(shipped, settings));
  seeded = await sandbox.seed(shipped);
  admin = await sandbox.server.client(settings.database);
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await sandbox?.stop();
});

describe("CI and the restricted finance domain", () => {
  it("the roster with svc_ci among finance's readers holds every deny rule, and says CI's finance schemas are copies", () => {
    expect(withCiText).not.toBe(shippedText);
    expect(checkBoundary(withCi)).toEqual([]);
    expect(withCi.ciSchemas.restrictedCopies).toEqual(["finance"]);
    expect(withCi.memberships).toContainEqual({ member: "ci_builder", role: "prod_finance_reader" });
  });

  it("as shipped: CI cannot read prod_finance, and ci.create_schema refuses finance, naming the roster change", async () => {
    expect(await as("svc_ci", (c) => failure(c.query("SELECT * FROM prod_finance.sample")))).toBe("permission denied for schema prod_finance");
    expect(await as("svc_ci", (c) => failure(createCiSchema(c, "7", "finance"))))
      .toBe("domain finance is restricted and CI is not one of its readers: add svc_ci to the readers of finance in team.yaml");
    expect((await admin.query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'ci_7_finance'")).rows[0]).toEqual({ n: 0 });
    // Unrestricted domains as before: ci_builder's own schema.
    expect(await as("svc_ci", (c) => createCiSchema(c, "7", "sales"))).toMatchObject({ schema: "ci_7_sales", owner: "ci_builder", created: true });
  });

  describe("with svc_ci among finance's readers", () => {
    beforeAll(async () => {
      await sandbox.up(declareResources(withCi, settings));
    }, 120_000);

    it("CI reads prod_finance and gets ci_<run>_finance as the provisioner's schema, USAGE and CREATE for ci_builder", async () => {
      expect(await as("svc_ci", async (c) => (await c.query("SELECT note FROM prod_finance.sample")).rows)).toEqual([{ note: "made by svc_prod" }]);
      expect(await as("svc_ci", (c) => createCiSchema(c, "8", "finance"))).toMatchObject({ schema: "ci_8_finance", owner: "provisioner", created: true });
      const acl = await admin.query("SELECT nspacl::text AS acl FROM pg_namespace WHERE nspname = 'ci_8_finance'");
      expect(acl.rows[0]).toEqual({ acl: "{provisioner=UC/provisioner,ci_builder=UC/provisioner}" });
      // A re-run of the same job gets the same schema back.
      expect(await as("svc_ci", (c) => createCiSchema(c, "8", "finance"))).toMatchObject({ schema: "ci_8_finance", created: false });
      // And the live audit sees the copy as declared: CI reads it, as the roster says; the provisioner owns it (admin).
      const client = await sandbox.connect();
      try {
        const audit = await auditLive(client, withCi, { provisioner: "provisioner" });
        const copy = audit.reads.schemas.find((x) => x.schema === "ci_8_finance");
        expect(copy).toMatchObject({ kind: "ci", domain: "finance", owner: "provisioner" });
        expect(copy!.readers.filter((r) => r.status === "drift")).toEqual([]);
        expect(audit.drift).toBe(0);
      } finally {
        await client.end();
      }
    });

    it("a CI run builds there as dbt does, but what it grants to bob reads nothing: bob gets no USAGE on the schema", async () => {
      await as("svc_ci", async (c) => {
        for (const sql of [
          "CREATE TABLE ci_8_finance.invoices AS SELECT * FROM prod_finance.sample",
          "CREATE VIEW ci_8_finance.invoices_view AS SELECT * FROM ci_8_finance.invoices",
          "GRANT SELECT ON ci_8_finance.invoices, ci_8_finance.invoices_view TO bob, dev_bob, PUBLIC",
          // Accepted with "WARNING: no privileges were granted": ci_builder holds USAGE without grant option.
          "GRANT USAGE ON SCHEMA ci_8_finance TO bob, dev_bob, PUBLIC",
        ]) await c.query(sql);
      });
      for (const table of ["ci_8_finance.invoices", "ci_8_finance.invoices_view"])
        expect(await as("bob", (c) => failure(c.query(`SELECT * FROM ${table}`)))).toBe("permission denied for schema ci_8_finance");
      expect(await as("svc_ci", async (c) => (await c.query("SELECT count(*)::int AS n FROM ci_8_finance.invoices_view")).rows)).toEqual([{ n: 1 }]);
      // The schema itself is not CI's to drop: cleanup-ci run as the provisioner drops it (next test).
      expect(await as("svc_ci", (c) => failure(c.query("DROP SCHEMA ci_8_finance CASCADE")))).toBe("must be owner of schema ci_8_finance");
    });

    it("cleanup-ci as CI leaves the copy; as the provisioner it drops it with what CI built, and only that run's", async () => {
      expect(await as("svc_ci", (c) => createCiSchema(c, "9", "finance"))).toMatchObject({ schema: "ci_9_finance", owner: "provisioner" });
      const run8 = { run: "8", names: ["ci_8_finance", "ci_8_sales"] };
      const byCi = await as("svc_ci", (c) => cleanupCiSchemas(c, { olderThanSeconds: 86_400, dryRun: false, run: run8 }));
      expect(byCi.schemas.map((v) => [v.schema, v.action, v.reason])).toEqual([["ci_8_finance", "skip", "owned by provisioner, not ci_builder"]]);
      const provisioner = await sandbox.connect();
      try {
        // An unmarked schema with a CI name is not the provisioner's to drop either: its age and origin are unknown.
        await provisioner.query("CREATE SCHEMA ci_10_finance");
        const stale = await cleanupCiSchemas(provisioner, { olderThanSeconds: 86_400, dryRun: true });
        expect(stale.schemas.find((v) => v.schema === "ci_10_finance")).toMatchObject({ action: "skip", reason: expect.stringMatching(/^no creation marker/) });
        const byProvisioner = await cleanupCiSchemas(provisioner, { olderThanSeconds: 86_400, dryRun: false, run: run8 });
        expect(byProvisioner.schemas.map((v) => [v.schema, v.action, v.dropped])).toEqual([["ci_8_finance", "drop", true]]);
        await provisioner.query("DROP SCHEMA ci_10_finance");
      } finally {
        await provisioner.end();
      }
      const left = await admin.query("SELECT nspname AS schema FROM pg_namespace WHERE nspname LIKE 'ci\\_%\\_finance' ORDER BY 1");
      expect(left.rows).toEqual([{ schema: "ci_9_finance" }]);
    });
  });
});
