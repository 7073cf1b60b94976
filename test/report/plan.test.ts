import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import { checkBoundary } from "../../infra/boundary/rules";
import { planReport, type PlanReport } from "../../infra/report/plan";
import { renderPlan } from "../../infra/report/plan-text";
import { declareResources } from "../../infra/platforms/declare";
import { managedResources, type ManagedResources } from "../../infra/report/resources";
import { loadRoster } from "../../infra/roster/load";
import { shippedSettings } from "../support/shipped";
import { aliceWritesProdSales } from "./broken-boundaries";

const boundary = buildBoundary(loadRoster(path.resolve(__dirname, "../../team.yaml")));
const NOTHING_MANAGED: ManagedResources = { stackConfig: "Pulumi.prod.yaml", byType: [], totals: {} };
const report = planReport(boundary, checkBoundary(boundary), NOTHING_MANAGED);
const text = renderPlan(report);

const schema = (name: string) => {
  const found = report.prodSchemas.find((s) => s.schema === name);
  if (!found) throw new Error(`no ${name} in the plan`);
  return found;
};
const who = (holders: PlanReport["prodSchemas"][number]["readers"]) => holders.map((h) => h.principal);
const section = (title: string): string[] => {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(title));
  const end = lines.findIndex((l, i) => i > start && l === "");
  return lines.slice(start + 1, end);
};

describe("plan report for the shipped team.yaml", () => {
  it("lists each developer's own schemas, role and logins", () => {
    expect(report.developers.map((d) => [d.name, d.role, d.schemas])).toEqual([
      ["alice", "dev_alice", ["alice_marketing", "alice_product", "alice_sales"]],
      ["bob", "dev_bob", ["bob_marketing", "bob_sales"]],
      ["carol", "dev_carol", ["carol_finance", "carol_marketing", "carol_product", "carol_sales"]],
      ["dave", "dev_dave", ["dave_product"]],
      ["erin", "dev_erin", ["erin_finance", "erin_sales"]],
    ]);
    expect(report.developers.find((d) => d.name === "dave")?.logins.postgres).toBe("dave_k");
    expect(report.developers.find((d) => d.name === "carol")?.logins.snowflake).toBe("CAROL.DIAZ@ACME.EXAMPLE");
  });

  it("names the restricted prod schemas each developer can read", () => {
    expect(Object.fromEntries(report.developers.map((d) => [d.name, d.restrictedReads]))).toEqual({
      alice: [], bob: [], carol: ["prod_finance"], dave: [], erin: ["prod_finance"],
    });
  });

  it("has only svc_prod, through prod_writer, writing every prod schema", () => {
    expect(report.prodSchemas.map((s) => s.schema)).toEqual(["prod_finance", "prod_marketing", "prod_product", "prod_sales"]);
    for (const s of report.prodSchemas) {
      expect(s.writers).toEqual([{ principal: "svc_prod", via: ["prod_writer"], source: "grant" }]);
      expect(s.owner).toBeNull();
    }
  });

  it("lets only the listed readers read the restricted prod_finance", () => {
    expect(schema("prod_finance").restricted).toBe(true);
    expect(schema("prod_finance").readers).toEqual([
      { principal: "carol", via: ["dev_carol", "prod_finance_reader"], source: "grant" },
      { principal: "erin", via: ["dev_erin", "prod_finance_reader"], source: "grant" },
    ]);
  });

  it("lets every developer and CI read the unrestricted prod schemas through prod_reader", () => {
    for (const name of ["prod_marketing", "prod_product", "prod_sales"]) {
      expect(schema(name).restricted).toBe(false);
      expect(who(schema(name).readers)).toEqual(["alice", "bob", "carol", "dave", "erin", "svc_ci"]);
      expect(schema(name).readers.every((r) => r.via.at(-1) === "prod_reader")).toBe(true);
    }
    expect(schema("prod_sales").readers.find((r) => r.principal === "svc_ci")?.via).toEqual(["ci_builder", "prod_reader"]);
  });

  it("lists the service accounts with purpose, role and key-pair auth", () => {
    expect(report.serviceAccounts.map(({ name, purpose, roles, keyPairAuth }) => ({ name, purpose, roles, keyPairAuth }))).toEqual([
      { name: "svc_ci", purpose: "ci", roles: ["ci_builder"], keyPairAuth: true },
      { name: "svc_prod", purpose: "prod", roles: ["prod_writer"], keyPairAuth: true },
    ]);
    expect(report.ciSchemas).toEqual({ creator: "ci_builder", prefix: "ci_", restrictedCopies: [], refused: ["finance"] });
  });

  it("counts everything", () => {
    expect(report.totals).toEqual({
      developers: 5,
      serviceAccounts: { all: 2, prod: 1, ci: 1 },
      prodSchemas: { all: 4, restricted: 1 },
      developerSchemas: 12,
      roles: 9,
      grants: 10,
      memberships: 15,
    });
  });

  it("reports that the deny rules hold", () => {
    expect(report.denyRules.holds).toBe(true);
    expect(report.denyRules.violations).toEqual([]);
    expect(report.denyRules.rules.map((r) => [r.rule, r.violations])).toEqual([["D1", 0], ["D2", 0], ["D3", 0], ["D4", 0], ["D5", 0]]);
  });

  it("is plain data, so --json prints exactly this object", () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});

describe("plan text", () => {
  it("has the sections a reviewer scans, in order", () => {
    const titles = text.split("\n").filter((l) => /^[A-Z]/.test(l));
    expect(titles).toEqual([
      "Plan for team.yaml: 5 developers, 2 service accounts, 4 prod schemas",
      "Developers (5)",
      "Prod schemas (4; * restricted: readable only by its listed readers and the writer)",
      "Service accounts (2)",
      "CI schemas",
      "Totals",
      "Resources `pulumi up` would manage (Pulumi.prod.yaml)",
      "Deny rules D1–D5: all hold",
    ]);
  });

  it("aligns the columns of every table", () => {
    for (const title of ["Developers", "Prod schemas", "Service accounts"]) {
      const [header, ...rows] = section(title).filter((l) => !l.startsWith("  Writers also read"));
      const starts = [...(header ?? "").matchAll(/ {2}(\S)/g)].map((m) => (m.index ?? 0) + 2).slice(1);
      for (const row of rows) for (const col of starts) expect(row[col - 1], `${title}: ${row}`).toBe(" ");
    }
  });

  it("says who writes and who reads each prod schema, marking the restricted one", () => {
    expect(section("Prod schemas")).toEqual([
      "  schema          access  through              who",
      "  prod_finance *  write   prod_writer          svc_prod",
      "                  read    prod_finance_reader  carol, erin",
      "  prod_marketing  write   prod_writer          svc_prod",
      "                  read    prod_reader          alice, bob, carol, dave, erin, svc_ci",
      "  prod_product    write   prod_writer          svc_prod",
      "                  read    prod_reader          alice, bob, carol, dave, erin, svc_ci",
      "  prod_sales      write   prod_writer          svc_prod",
      "                  read    prod_reader          alice, bob, carol, dave, erin, svc_ci",
      "  Writers also read. Every prod schema is owned by prod_writer on PostgreSQL and by the provisioner that runs `pulumi up` on Snowflake (an admin path, see `npm run audit`).",
    ]);
  });

  it("shows each service account's key-pair auth", () => {
    expect(section("Service accounts")).toEqual([
      "  account   purpose  roles        postgres login  snowflake user  key-pair auth",
      "  svc_ci    ci       ci_builder   svc_ci          SVC_CI          configured",
      "  svc_prod  prod     prod_writer  svc_prod        SVC_PROD        configured",
    ]);
  });

  it("flags a service account without a key", () => {
    const keyless = { ...boundary, principals: boundary.principals.map(({ rsaPublicKey: _key, ...p }) => p) };
    expect(renderPlan(planReport(keyless, [], NOTHING_MANAGED))).toMatch(/svc_prod\s+prod\s+prod_writer\s+svc_prod\s+SVC_PROD\s+missing \(add rsa_public_key\)/);
  });
});

describe("plan of a boundary that breaks a deny rule (hand-built: the builder never does)", () => {
  const broken = aliceWritesProdSales(boundary);
  const violations = checkBoundary(broken);
  const brokenReport = planReport(broken, violations, NOTHING_MANAGED);
  const brokenText = renderPlan(brokenReport);

  it("shows the extra writer where a reviewer looks for it", () => {
    const sales = brokenReport.prodSchemas.find((s) => s.schema === "prod_sales");
    expect(sales?.writers).toContainEqual({ principal: "alice", via: ["dev_alice"], source: "grant" });
    expect(brokenText).toContain("\n  prod_sales      write   dev_alice            alice\n");
  });

  it("reports each violation instead of 'all hold'", () => {
    expect(brokenReport.denyRules.holds).toBe(false);
    expect(brokenReport.denyRules.violations).toEqual(violations);
    expect(violations.map((v) => [v.rule, v.subject])).toContainEqual(["D1", "prod_sales"]);
    expect(brokenText).not.toContain("all hold");
    expect(brokenText).toContain(`Deny rules D1–D5: ${violations.length} violation${violations.length === 1 ? "" : "s"}`);
    expect(brokenText).toContain("  D1 only prod_writer writes to prod schemas");
    expect(brokenText).toMatch(/^ {6}prod_sales {2}dev_alice has write on prod schema prod_sales\./m);
  });
});

describe("the resources `pulumi up` would manage, as plan lists them", () => {
  let managed: ManagedResources;
  beforeAll(async () => {
    managed = managedResources(declareResources(boundary, shippedSettings()), "Pulumi.prod.yaml");
  });

  it("counts each platform's resources by type, and the counts add up to the platform's total", () => {
    for (const platform of ["postgres", "snowflake"] as const) {
      const rows = managed.byType.filter((r) => r.platform === platform);
      expect(rows.reduce((sum, r) => sum + r.count, 0)).toBe(managed.totals[platform]);
    }
    expect(managed.byType).toContainEqual({ platform: "postgres", type: "postgresql.Schema", count: 17 });
    expect(managed.byType).toContainEqual({ platform: "snowflake", type: "snowflake.ServiceUser", count: 2 });
  });

  it("lists each resource with its key inputs and what removing it does to data, for --resources", () => {
    const listed = managedResources(declareResources(boundary, shippedSettings()), "Pulumi.prod.yaml", true);
    expect(listed.list).toHaveLength(managed.totals.postgres! + managed.totals.snowflake!);
    const text = renderPlan(planReport(boundary, [], listed), { resources: true });
    expect(text).toMatch(/^ {2}postgres +postgresql\.Grant +prod_sales\/prod_reader\/schema +— +role=prod_reader privileges=\[USAGE\] objectType=schema schema=prod_sales$/m);
    expect(text).toMatch(/^ {2}postgres +postgresql\.Schema +alice_sales +retained +database=analytics name=alice_sales owner=dev_alice$/m);
    expect(text).toMatch(/^ {2}snowflake {2}snowflake\.Schema +prod_sales +protected, retained +database=ANALYTICS name=PROD_SALES withManagedAccess=true$/m);
    expect(text).toMatch(/^ {2}snowflake {2}snowflake\.GrantOwnership +alice_sales +— +accountRoleName="DEV_ALICE" on=\{objectType=SCHEMA objectName="ANALYTICS"\."ALICE_SALES"\}$/m);
    // Function bodies and key material stay out of the one-line view; --json has them.
    expect(text).not.toContain("BEGIN");
    expect(text).not.toContain("MIIB");
    expect(renderPlan(planReport(boundary, [], listed))).not.toContain("Every resource");
  });

  it("prints them in their own section", () => {
    const text = renderPlan(planReport(boundary, [], managed));
    expect(text).toMatch(/Resources `pulumi up` would manage \(Pulumi.prod.yaml\)\n\s+platform\s+type\s+count\n/);
    expect(text).toMatch(/\n\s+postgres\s+postgresql.Schema\s+17\n/);
  });
});

describe("plan for a roster that lists the CI account among a restricted domain's readers", () => {
  it("says CI can read prod_finance, as a restricted read, and that its CI schemas are restricted copies", async () => {
    const { readFileSync } = await import("node:fs");
    const { parseRosterText } = await import("../support/arbitraries");
    const text = readFileSync(path.resolve(__dirname, "../../team.yaml"), "utf8").replace("readers: [carol, erin]", "readers: [carol, erin, svc_ci]");
    const withCi = buildBoundary(parseRosterText(text));
    const shown = renderPlan(planReport(withCi, checkBoundary(withCi), NOTHING_MANAGED, "team.yaml")).split("\n");
    expect(shown).toContain("  CI can read prod_finance (restricted): ci_<run>_finance is a restricted copy, owned by the provisioner, so no CI run can share it");
    expect(shown.find((l) => l.startsWith("  prod_finance *"))).toBeDefined();
    expect(shown[shown.findIndex((l) => l.startsWith("  prod_finance *")) + 1]).toMatch(/^\s+read\s+prod_finance_reader\s+carol, erin, svc_ci$/);
    expect(shown.some((l) => l.startsWith("  CI cannot read"))).toBe(false);
    expect(renderPlan(report).split("\n")).toContain("  CI cannot read prod_finance (restricted): no CI schema for finance; to build it in CI, add the CI account to that domain's readers");
  });
});
