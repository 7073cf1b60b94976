import { randomBytes } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLive } from "../../infra/audit/live";
import { buildBoundary } from "../../infra/boundary/build";
import { declareResources } from "../../infra/platforms/declare";
import { loadRoster } from "../../infra/roster/load";
import type { Roster } from "../../infra/roster/types";
import { changesNothing, summarize } from "../../infra/sandbox/engine";
import { POSTGRES_MAJORS, type PostgresMajor } from "../../infra/sandbox/server";
import { Sandbox } from "../../infra/sandbox/setup";
import { REPO_ROOT } from "../support/shipped";
import { sandboxSettings, shippedProvider } from "./support";

// `pulumi up` as users run it: the real engine's parallelism, terraform-provider-postgresql's locks, self-grants and
// read-backs, a CREATEROLE provisioner that is not a superuser, on each PostgreSQL major. `npm test` runs 15 and 18;
// `npm run test:versions` (called by .ci/run) the others. WAREHOUSE_PG_MAJORS chooses.

const MAJORS = (process.env.WAREHOUSE_PG_MAJORS ?? "15,18").split(",").map((m) => {
  const major = POSTGRES_MAJORS.find((known) => String(known) === m.trim());
  if (major === undefined) throw new Error(`WAREHOUSE_PG_MAJORS: ${m} is not one of ${POSTGRES_MAJORS.join(", ")}`);
  return major;
});
const FIRST_DEPLOYS = 5;

const settings = sandboxSettings();
const roster = loadRoster(`${REPO_ROOT}/team.yaml`);
const shipped = declareResources(buildBoundary(roster), settings);

/** A fresh login for `role` (the program sets no passwords), as a superuser-made fixture. */
async function loginAs(sandbox: Sandbox, role: string): Promise<pg.Client> {
  const password = randomBytes(12).toString("hex");
  const admin = await sandbox.server.client();
  await admin.query(`ALTER ROLE "${role}" PASSWORD '${password}'`).finally(() => admin.end());
  return sandbox.connect({ user: role, password });
}

async function createSchemaAsCi(sandbox: Sandbox, run: string, domain: string): Promise<string> {
  const ci = await loginAs(sandbox, "svc_ci");
  try {
    return (await ci.query<{ name: string }>("SELECT ci.create_schema($1, $2) AS name", [run, domain])).rows[0]!.name;
  } finally {
    await ci.end();
  }
}

describe.each(MAJORS)("PostgreSQL %i, a non-superuser provisioner, pulumi up's default parallelism", (major: PostgresMajor) => {
  it(`deploys from scratch ${FIRST_DEPLOYS} times without a failure; each time a second up and an up --refresh change nothing`, async () => {
    const outcomes: string[] = [];
    for (let run = 0; run < FIRST_DEPLOYS; run++) {
      const sandbox = await Sandbox.start(settings.database, shippedProvider(), undefined, major);
      try {
        const first = await sandbox.up(shipped, { allowFailure: true });
        const failed = first.steps.filter((s) => s.status === "failed").map((s) => `${s.resource.name}: ${s.error}`);
        const second = await sandbox.up(shipped, { allowFailure: true });
        const refreshed = await sandbox.up(shipped, { refresh: true, allowFailure: true });
        outcomes.push(`failed [${failed.join("; ")}] second: ${summarize(second.steps)} refresh: ${summarize(refreshed.steps)}`);
      } finally {
        await sandbox.stop();
      }
    }
    const clean = `failed [] second: no changes (${shipped.filter((r) => r.custom).length} unchanged) refresh: no changes (${shipped.filter((r) => r.custom).length} unchanged)`;
    expect(outcomes).toEqual(Array.from({ length: FIRST_DEPLOYS }, () => clean));
  }, 240_000);

  describe("one stack over time", () => {
    let sandbox: Sandbox;
    let admin: pg.Client;

    beforeAll(async () => {
      sandbox = await Sandbox.start(settings.database, shippedProvider(), undefined, major);
      await sandbox.up(shipped);
      admin = await sandbox.server.client(settings.database);
    }, 120_000);

    afterAll(async () => {
      await admin?.end();
      await sandbox?.stop();
    });

    it("keeps ci.create_schema working after any number of updates", async () => {
      expect(await createSchemaAsCi(sandbox, "run1", "sales")).toBe("ci_run1_sales");
      for (let i = 0; i < 3; i++) {
        expect(changesNothing((await sandbox.up(shipped)).steps)).toBe(true);
        expect(changesNothing((await sandbox.up(shipped, { refresh: true })).steps)).toBe(true);
      }
      expect(await createSchemaAsCi(sandbox, "run2", "sales")).toBe("ci_run2_sales");
      const owners = await admin.query<{ owner: string }>("SELECT DISTINCT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname LIKE 'ci\\_run%'");
      expect(owners.rows).toEqual([{ owner: "ci_builder" }]);
    });

    it("reports a membership an admin granted by hand as drift in audit --live", async () => {
      await admin.query("GRANT prod_writer TO alice");
      try {
        const audit = await auditLive(await sandbox.connect(), buildBoundary(roster), { provisioner: "provisioner" });
        const alice = audit.schemas.flatMap((s) => s.writers).filter((w) => w.chain[0] === "alice");
        expect(alice.length).toBeGreaterThan(0);
        expect(alice.every((w) => w.status === "drift")).toBe(true);
        expect(audit.drift).toBeGreaterThan(0);
        // The provider reads alice's memberships back and plans to revoke it; on 16+ it cannot (an admin granted it).
        const refreshed = await sandbox.up(shipped, { refresh: true });
        expect(refreshed.steps.filter((s) => s.operation === "update").map((s) => `${s.resource.name} ${s.changed.join(",")}`)).toEqual(["alice roles"]);
        const still = await admin.query("SELECT 1 FROM pg_auth_members WHERE roleid = 'prod_writer'::regrole AND member = 'alice'::regrole");
        expect(still.rowCount).toBe(major >= 16 ? 1 : 0);
      } finally {
        await admin.query("REVOKE prod_writer FROM alice");
      }
    });

    it("cannot repair a developer schema whose owner was changed by hand, and audit --live names it with the fix", async () => {
      await admin.query("ALTER SCHEMA bob_sales OWNER TO dev_alice");
      try {
        // The provider's setSchemaOwner runs ALTER SCHEMA … OWNER TO without granting itself the current owner.
        const refreshed = await sandbox.up(shipped, { refresh: true, allowFailure: true });
        expect(refreshed.steps.filter((s) => s.status === "failed").map((s) => `${s.operation} ${s.resource.name}`)).toEqual(["update bob_sales"]);
        const audit = await auditLive(await sandbox.connect(), buildBoundary(roster), { provisioner: "provisioner" });
        const check = audit.reads.machinery.find((c) => c.check === "developer schemas belong to their developer's role, restricted copies to the provisioner")!;
        expect(check.ok).toBe(false);
        expect(check.detail).toMatch(/^bob_sales is owned by dev_alice, not dev_bob: pulumi up cannot give it back .* ALTER SCHEMA bob_sales OWNER TO dev_bob$/);
      } finally {
        await admin.query("ALTER SCHEMA bob_sales OWNER TO dev_bob");
      }
      expect(changesNothing((await sandbox.up(shipped, { refresh: true })).steps)).toBe(true);
    });

    it("restricts a domain whose prod schema holds only views: the update works and leaves no stale read", async () => {
      const prod = await loginAs(sandbox, "svc_prod");
      try {
        await prod.query("CREATE VIEW prod_marketing.campaigns AS SELECT 1 AS id");
      } finally {
        await prod.end();
      }
      const canRead = async (role: string) =>
        (await admin.query<{ ok: boolean }>("SELECT has_table_privilege($1, 'prod_marketing.campaigns', 'SELECT') AS ok", [role])).rows[0]!.ok;
      expect(await canRead("bob")).toBe(true);
      // As the roster's validation has it: only readers keep a schema for a restricted domain.
      const restricted: Roster = {
        ...roster,
        domains: roster.domains.map((d) => (d.name === "marketing" ? { ...d, restricted: true, readers: ["bob"] } : d)),
        developers: roster.developers.map((d) => (d.name === "bob" ? d : { ...d, domains: d.domains.filter((x) => x !== "marketing") })),
      };
      const toRestricted = declareResources(buildBoundary(restricted), settings);
      // bob_marketing becomes a restricted copy, the provisioner's: the provider's ALTER SCHEMA … OWNER TO runs without
      // granting itself the current owner, so it fails, and the README's hand-over (run as the provisioner) fixes it.
      const refused = await sandbox.up(toRestricted, { allowFailure: true });
      expect(refused.steps.filter((s) => s.status === "failed").map((s) => `${s.operation} ${s.resource.name}: ${s.error ?? ""}`)).toEqual([
        "update bob_marketing: must be owner of schema bob_marketing (SQLSTATE 42501)",
      ]);
      // The README's hand-over, either way: the provisioner grants itself bob's role for the moment, and gives the role
      // its USAGE and CREATE again (ALTER … OWNER TO moves the old owner's privileges to the new one).
      const handOver = (to: string) => `BEGIN; GRANT dev_bob TO CURRENT_USER; ALTER SCHEMA bob_marketing OWNER TO ${to};
        GRANT USAGE, CREATE ON SCHEMA bob_marketing TO dev_bob; REVOKE dev_bob FROM CURRENT_USER; COMMIT`;
      const provisioner = await sandbox.connect();
      try {
        await provisioner.query(handOver("CURRENT_USER"));
        const changed = await sandbox.up(toRestricted);
        expect(changed.steps.every((s) => s.status !== "failed")).toBe(true);
        expect(await canRead("alice")).toBe(false);
        expect(await canRead("bob")).toBe(true);
        expect(await canRead("prod_reader")).toBe(false);
        const copy = await admin.query<{ owner: string; acl: string }>("SELECT nspowner::regrole::text AS owner, nspacl::text AS acl FROM pg_namespace WHERE nspname = 'bob_marketing'");
        expect(copy.rows[0]).toEqual({ owner: "provisioner", acl: "{provisioner=UC/provisioner,dev_bob=UC/provisioner}" });
        // And back: the schema goes back to bob's role the same way, then the shipped roster restores every reader.
        await provisioner.query(handOver("dev_bob"));
      } finally {
        await provisioner.end();
      }
      await sandbox.up(shipped);
      expect(await canRead("alice")).toBe(true);
      const own = await admin.query("SELECT nspowner::regrole::text AS owner, has_schema_privilege('bob', 'bob_marketing', 'USAGE, CREATE') AS works FROM pg_namespace WHERE nspname = 'bob_marketing'");
      expect(own.rows).toEqual([{ owner: "dev_bob", works: true }]);
      expect(changesNothing((await sandbox.up(shipped, { refresh: true })).steps)).toBe(true);
    });

    it("offboards a developer as the non-superuser: her roles go, her schemas and rows stay", async () => {
      const withoutErin: Roster = {
        ...roster,
        developers: roster.developers.filter((d) => d.name !== "erin"),
        domains: roster.domains.map((d) => ({ ...d, readers: d.readers.filter((r) => r !== "erin") })),
      };
      const erin = await loginAs(sandbox, "erin");
      await erin.query("CREATE TABLE erin_sales.kept (id integer); INSERT INTO erin_sales.kept VALUES (1)").finally(() => erin.end());
      await sandbox.up(declareResources(buildBoundary(withoutErin), settings));
      expect((await admin.query("SELECT rolname FROM pg_roles WHERE rolname IN ('erin', 'dev_erin')")).rows).toEqual([]);
      expect((await admin.query("SELECT id FROM erin_sales.kept")).rows).toEqual([{ id: 1 }]);
      const schemas = await admin.query<{ owner: string }>("SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname IN ('erin_sales', 'erin_finance')");
      expect(schemas.rows).toEqual([{ owner: "provisioner" }, { owner: "provisioner" }]);
    });
  });
});
