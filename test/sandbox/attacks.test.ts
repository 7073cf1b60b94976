import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import { loadRoster } from "../../infra/roster/load";
import { declareResources } from "../../infra/platforms/declare";
import { DATABASE, DATABASE_ACTIONS, renderMatrix, runAttacks, SCHEMA_ACTIONS, type AttackMatrix } from "../../infra/sandbox/attacks";
import { PUBLIC_PROBE, Sandbox, type Seeded } from "../../infra/sandbox/setup";
import { REPO_ROOT } from "../support/shipped";
import { holes, knownHoles, sandboxSettings, shippedProvider } from "./support";

// The shipped roster's boundary, attacked on a real PostgreSQL from every principal: the suite fails on any outcome
// the boundary does not predict (beyond the documented known holes), and on a matrix of the wrong shape.

const boundary = buildBoundary(loadRoster(`${REPO_ROOT}/team.yaml`));
const settings = sandboxSettings();
let sandbox: Sandbox;
let seeded: Seeded;
let attacker: pg.Client;
let matrix: AttackMatrix;

beforeAll(async () => {
  const resources = await declareResources(boundary, settings);
  sandbox = await Sandbox.start(settings.database, shippedProvider());
  await sandbox.apply(resources);
  seeded = await sandbox.seed(boundary);
  attacker = await sandbox.server.client(settings.database);
  matrix = await runAttacks({ client: attacker, boundary, tables: seeded.tables, publicProbe: PUBLIC_PROBE, ciSchema: seeded.ciSchema!.name });
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
    expect(matrix.attempts).toHaveLength(8 * (17 * 14 + 4));
    expect(new Set(matrix.attempts.map((a) => `${a.principal}/${a.target}/${a.action}`)).size).toBe(matrix.attempts.length);
  });

  it("finds no outcome the boundary does not predict, beyond the known holes of the PostgreSQL component", () => {
    expect(matrix.attempts.filter((a) => a.actual === "error")).toEqual([]);
    expect(holes(matrix.unexpected)).toEqual(knownHoles());
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
    expect(outcome("svc_prod", "prod_sales", "drop_schema")).toBe("denied");
    expect(outcome("svc_prod", DATABASE, "set_role_writer")).toBe("allowed");
    expect(outcome("svc_ci", DATABASE, "create_ci_schema")).toBe("allowed");
    for (const p of ["alice", "svc_ci", "PUBLIC"]) expect(outcome(p, DATABASE, "set_role_writer")).toBe("denied");
    for (const p of matrix.principals) expect(outcome(p.principal, DATABASE, "grant_writer_to_self")).toBe("denied");
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
});
