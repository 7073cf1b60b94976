import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import { loadRoster } from "../../infra/roster/load";
import type { Roster } from "../../infra/roster/types";
import { declareResources, type DeclaredResource } from "../../infra/platforms/declare";
import type { AppliedStatement } from "../../infra/sandbox/apply";
import { renderMatrix, runAttacks } from "../../infra/sandbox/attacks";
import { PUBLIC_PROBE, Sandbox, UpFailed, type Seeded } from "../../infra/sandbox/setup";
import { REPO_ROOT } from "../support/shipped";
import { privilegeSnapshot, sandboxSettings, shippedProvider } from "./support";

// Offboarding on PostgreSQL: erin leaves the roster. Re-declaring and re-applying removes her login and role, keeps her
// schemas and rows (owned by the provisioner from then on), and gives nobody anything they did not have.

const settings = sandboxSettings();
const roster = loadRoster(`${REPO_ROOT}/team.yaml`);
const withoutErin: Roster = {
  ...roster,
  developers: roster.developers.filter((d) => d.name !== "erin"),
  domains: roster.domains.map((d) => ({ ...d, readers: d.readers.filter((r) => r !== "erin") })),
};
const before = buildBoundary(roster);
const after = buildBoundary(withoutErin);
let declaredBefore: DeclaredResource[];
let declaredAfter: DeclaredResource[];
let sandbox: Sandbox;
let seeded: Seeded;
let admin: pg.Client;
let snapshotBefore: Set<string>;
let failedOnProviderDefault: unknown;
const applied: AppliedStatement[] = [];

beforeAll(async () => {
  declaredBefore = declareResources(before, settings);
  declaredAfter = declareResources(after, settings);
  sandbox = await Sandbox.start(settings.database, shippedProvider());
  await sandbox.up(declaredBefore);
  seeded = await sandbox.seed(before);
  admin = await sandbox.server.client(settings.database);
  snapshotBefore = await privilegeSnapshot(admin);
  // What the stack check (postgresql:database must be the warehouse database) prevents: the provider's default database.
  failedOnProviderDefault = await sandbox.up(declaredAfter, { providerDatabase: "postgres" }).catch((e: unknown) => e);
  // As shipped: the provider connects where Pulumi.prod.yaml says; the failed run changed nothing, so this one starts over.
  await sandbox.up(declaredAfter, { log: (s) => applied.push(s) });
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await sandbox?.stop();
});

describe("removing a developer from the roster", () => {
  it("connects the provider to the warehouse database, as the shipped stack says", () => {
    expect(sandbox.provider).toMatchObject({ username: "provisioner", database: settings.database });
    expect(settings.database).toBe("analytics");
  });

  it("would fail at DROP ROLE were the provider connected to another database than the warehouse, and change nothing", () => {
    expect(failedOnProviderDefault).toBeInstanceOf(UpFailed);
    expect((failedOnProviderDefault as UpFailed).failed.map((s) => `${s.operation} ${s.resource.name}`)).toEqual(["delete erin"]);
    expect((failedOnProviderDefault as Error).message).toMatch(/role "erin" cannot be dropped because some objects depend on it/);
  });

  it("deletes exactly her login and role as the non-superuser provider does, each granted to it for REASSIGN/DROP OWNED, and never drops a schema", () => {
    // The advisory locks (SELECT pg_advisory_xact_lock ...) and membership checks are left out of this list.
    const ddl = applied.filter((s) => !/^(SELECT|SET) /.test(s.sql)).map((s) => `${s.resource}: ${s.sql}`);
    expect(ddl).toEqual([
      'erin: GRANT "erin" TO "provisioner"',
      'erin: REASSIGN OWNED BY "erin" TO "provisioner"',
      'erin: DROP OWNED BY "erin"',
      'erin: REVOKE "erin" FROM "provisioner"',
      'erin: DROP ROLE "erin"',
      'dev_erin: GRANT "dev_erin" TO "provisioner"',
      'dev_erin: REASSIGN OWNED BY "dev_erin" TO "provisioner"',
      'dev_erin: DROP OWNED BY "dev_erin"',
      'dev_erin: REVOKE "dev_erin" FROM "provisioner"',
      'dev_erin: DROP ROLE "dev_erin"',
    ]);
    expect(applied.some((s) => s.sql.startsWith("SELECT pg_advisory_xact_lock"))).toBe(true);
  });

  it("leaves no role of hers", async () => {
    const roles = await admin.query("SELECT rolname FROM pg_roles WHERE rolname IN ('erin', 'dev_erin')");
    expect(roles.rows).toEqual([]);
  });

  it("keeps her schemas and rows, owned by the provisioner", async () => {
    const schemas = await admin.query<{ schema: string; owner: string }>(
      "SELECT nspname AS schema, nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname LIKE 'erin\\_%' ORDER BY 1",
    );
    expect(schemas.rows).toEqual([{ schema: "erin_finance", owner: "provisioner" }, { schema: "erin_sales", owner: "provisioner" }]);
    for (const schema of ["erin_finance", "erin_sales"]) {
      const rows = await admin.query(`SELECT id, note FROM ${schema}.sample`);
      expect(rows.rows).toEqual([{ id: 1, note: "made by erin" }]);
      const owner = await admin.query(`SELECT tableowner FROM pg_tables WHERE schemaname = $1`, [schema]);
      expect(owner.rows).toEqual([{ tableowner: "provisioner" }]);
    }
  });

  it("gives nobody a privilege they did not hold before", async () => {
    const snapshotAfter = await privilegeSnapshot(admin);
    expect(snapshotAfter.size).toBeGreaterThan(50);
    expect([...snapshotAfter].filter((entry) => !snapshotBefore.has(entry))).toEqual([]);
    const lost = [...snapshotBefore].filter((entry) => !snapshotAfter.has(entry));
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.every((entry) => entry.startsWith("erin|"))).toBe(true);
  });

  it("passes the attack suite on the new boundary, her retained schemas included: nobody may touch them", async () => {
    const attacker = await sandbox.server.client(settings.database);
    try {
      const matrix = await runAttacks({
        client: attacker, boundary: after, tables: seeded.tables, publicProbe: PUBLIC_PROBE, loginAs: sandbox.sessionsFor(seeded),
        ciSchema: seeded.ciSchema!.name, retainedSchemas: ["erin_finance", "erin_sales"],
      });
      console.log(renderMatrix(matrix));
      expect(matrix.principals.map((p) => p.principal)).not.toContain("erin");
      expect(matrix.targets).toEqual(expect.arrayContaining(["erin_finance", "erin_sales"]));
      const onRetained = matrix.attempts.filter((a) => a.target.startsWith("erin_"));
      expect(onRetained).toHaveLength(7 * 2 * 14);
      expect(onRetained.filter((a) => a.actual !== "denied")).toEqual([]);
      expect(matrix.attempts.filter((a) => a.actual === "error")).toEqual([]);
      expect(matrix.unexpected).toEqual([]);
    } finally {
      await attacker.end();
    }
  });
});
