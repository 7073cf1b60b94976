import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLive } from "../../infra/audit/live";
import { declareResources } from "../../infra/platforms/declare";
import { DATABASE, runAttacks, type AttackMatrix } from "../../infra/sandbox/attacks";
import { PUBLIC_PROBE, Sandbox, type Seeded } from "../../infra/sandbox/setup";
import { shippedBoundary } from "../support/shipped";
import { sandboxSettings, shippedProvider } from "./support";

// PostgreSQL 14 lets PUBLIC create objects in `public`, which is on every login's search_path: a developer's
// public.lower(varchar) matches lower(code) on a varchar column better than pg_catalog.lower(text), so it would run as
// whoever calls it, the prod account included. The program closes it twice: PUBLIC keeps only USAGE on `public`, and the
// service logins resolve unqualified names in pg_catalog alone. Both are tried here on a real 14, by real logins.

const boundary = shippedBoundary();
const settings = sandboxSettings();
let sandbox: Sandbox;
let seeded: Seeded;
let admin: pg.Client;
let matrix: AttackMatrix;

beforeAll(async () => {
  sandbox = await Sandbox.start(settings.database, shippedProvider(), undefined, 14);
  await sandbox.up(await declareResources(boundary, settings));
  seeded = await sandbox.seed(boundary);
  admin = await sandbox.server.client(settings.database);
  matrix = await runAttacks({ client: admin, boundary, tables: seeded.tables, publicProbe: PUBLIC_PROBE, loginAs: sandbox.sessionsFor(seeded), ciSchema: seeded.ciSchema!.name });
}, 180_000);

afterAll(async () => {
  await admin?.end();
  await sandbox?.stop();
});

const as = (principal: string) => sandbox.connectAs(seeded.logins.find((l) => l.principal === principal)!);

/** Runs `sql` as a real login and returns the notices it raised and the rows. */
async function run(principal: string, sql: string): Promise<{ notices: string[]; rows: Record<string, unknown>[] }> {
  const client = await as(principal);
  const notices: string[] = [];
  client.on("notice", (n) => notices.push(n.message ?? ""));
  try {
    return { notices, rows: (await client.query(sql)).rows };
  } finally {
    await client.end();
  }
}

const LOOKALIKE = `CREATE FUNCTION public.lower(character varying) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN RAISE NOTICE 'look-alike ran as %', current_user; RETURN pg_catalog.lower($1::text); END $$`;

describe("PostgreSQL 14's public schema", () => {
  it("is a real 14", async () => {
    expect((await admin.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v).toMatch(/^14/);
  });

  it("runs the whole attack suite with nothing the boundary does not predict, and nobody may create in public", () => {
    expect(matrix.unexpected).toEqual([]);
    for (const p of matrix.principals) expect(matrix.attempts.find((a) => a.principal === p.principal && a.target === DATABASE && a.action === "create_in_public")!.actual).toBe("denied");
  });

  it("refuses a developer's look-alike in public, logged in as that developer", async () => {
    await expect(run("bob", LOOKALIKE)).rejects.toThrow(/permission denied for schema public/);
  });

  it("keeps the prod account's calls off public even where PUBLIC can create there, while a default path runs the look-alike", async () => {
    const publicCheck = async () => {
      const auditor = await sandbox.connect();
      try {
        return (await auditLive(auditor, boundary, { provisioner: "provisioner" })).reads.machinery.find((c) => c.check === "PUBLIC cannot create in schema public")!;
      } finally {
        await auditor.end();
      }
    };
    expect((await publicCheck()).ok).toBe(true);
    // As a provisioner that does not own `public` leaves it on 14: PUBLIC may create there, and audit --live says so.
    await admin.query("GRANT CREATE ON SCHEMA public TO PUBLIC");
    try {
      const check = await publicCheck();
      expect(check.ok).toBe(false);
      expect(check.detail).toMatch(/ALTER SCHEMA public OWNER TO provisioner \(pulumi up --refresh then revokes it\)/);
      await run("bob", LOOKALIKE);
      await run("svc_prod", "CREATE TABLE prod_sales.codes (code varchar); INSERT INTO prod_sales.codes VALUES ('ABC')");
      const prod = await run("svc_prod", "SELECT current_setting('search_path') AS path, lower(code) AS code FROM prod_sales.codes");
      expect(prod.rows).toEqual([{ path: "pg_catalog", code: "abc" }]);
      expect(prod.notices).toEqual([]);
      // Not vacuous: a login with the default path (a developer who reads prod_sales) does run bob's code as itself.
      const alice = await run("alice", "SELECT lower(code) AS code FROM prod_sales.codes");
      expect(alice.rows).toEqual([{ code: "abc" }]);
      expect(alice.notices).toEqual(["look-alike ran as alice"]);
      // The provisioner owns public here (as the README asks on 14): the next up --refresh reads the grant back and revokes it.
      await sandbox.up(await declareResources(boundary, settings), { refresh: true });
      expect((await publicCheck()).ok).toBe(true);
    } finally {
      await admin.query("DROP TABLE IF EXISTS prod_sales.codes; DROP FUNCTION IF EXISTS public.lower(character varying); REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    }
  });
});
