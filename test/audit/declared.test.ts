import fc from "fast-check";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { declaredWriters } from "../../infra/audit/declared";
import { PROVISIONER, type WritePath } from "../../infra/audit/writers";
import { buildBoundary } from "../../infra/boundary/build";
import { checkBoundary } from "../../infra/boundary/rules";
import { auditReport, renderAudit } from "../../infra/report/audit";
import { loadRoster } from "../../infra/roster/load";
import { aliceWritesProdSales, bobHoldsProdWriter, publicWritesProdMarketing } from "../report/broken-boundaries";
import type { Roster } from "../../infra/roster/types";

const boundary = buildBoundary(loadRoster(path.resolve(__dirname, "../../team.yaml")));
const writersOn = (audit: ReturnType<typeof declaredWriters>, schema: string): WritePath[] =>
  audit.schemas.find((s) => s.schema === schema)?.writers ?? [];

const SVC_PROD: WritePath = { principal: "svc_prod", kind: "service", purpose: "prod", chain: ["svc_prod", "prod_writer"], from: "grant", admin: false };
const PROVISIONER_OWNS: WritePath = { principal: PROVISIONER, kind: "provisioner", chain: [PROVISIONER], from: "ownership", admin: true };

describe("declared writers of the shipped team.yaml", () => {
  const audit = declaredWriters(boundary);

  it("covers every prod schema and nothing else", () => {
    expect(audit.source).toBe("declared");
    expect(audit.schemas.map((s) => [s.schema, s.domain, s.restricted])).toEqual([
      ["prod_finance", "finance", true],
      ["prod_marketing", "marketing", false],
      ["prod_product", "product", false],
      ["prod_sales", "sales", false],
    ]);
  });

  it("finds exactly svc_prod through prod_writer, and the provisioner's ownership as an admin path", () => {
    for (const s of audit.schemas) expect(s.writers, s.schema).toEqual([SVC_PROD, PROVISIONER_OWNS]);
  });

  it("renders one row per writer with its role chain and source", () => {
    const text = renderAudit(auditReport(audit, checkBoundary(boundary)));
    const rows = text.split("\n").filter((l) => l.startsWith("  ") && (l.includes("→") || l.includes(PROVISIONER)));
    expect(rows).toEqual([
      "  prod_finance (restricted)  svc_prod       prod service account        svc_prod → prod_writer  grant",
      "                             (provisioner)  admin path: runs pulumi up  —                       ownership",
      "  prod_marketing             svc_prod       prod service account        svc_prod → prod_writer  grant",
      "                             (provisioner)  admin path: runs pulumi up  —                       ownership",
      "  prod_product               svc_prod       prod service account        svc_prod → prod_writer  grant",
      "                             (provisioner)  admin path: runs pulumi up  —                       ownership",
      "  prod_sales                 svc_prod       prod service account        svc_prod → prod_writer  grant",
      "                             (provisioner)  admin path: runs pulumi up  —                       ownership",
    ]);
    expect(text).toContain("4 prod schemas. Writers: svc_prod (prod service account) on all 4. Admin paths: (provisioner) on all 4.\n");
    expect(text).toContain("Deny rules D1–D5: all hold\n");
  });
});

describe("declared writers of hand-built boundaries that break the rules", () => {
  it("shows a developer granted write on one prod schema, by grant", () => {
    const audit = declaredWriters(aliceWritesProdSales(boundary));
    expect(writersOn(audit, "prod_sales")).toContainEqual({ principal: "alice", kind: "developer", chain: ["alice", "dev_alice"], from: "grant", admin: false });
    expect(writersOn(audit, "prod_marketing").map((w) => w.principal)).toEqual(["svc_prod", PROVISIONER]);
  });

  it("follows a membership chain into prod_writer", () => {
    const broken = bobHoldsProdWriter(boundary);
    const audit = declaredWriters(broken);
    for (const s of audit.schemas)
      expect(s.writers).toContainEqual({ principal: "bob", kind: "developer", chain: ["bob", "dev_bob", "prod_writer"], from: "grant", admin: false });
    const text = renderAudit(auditReport(audit, checkBoundary(broken)));
    expect(text).toContain("bob → dev_bob → prod_writer");
    expect(text).toMatch(/^Deny rules D1–D5: \d+ violations?$/m);
    expect(text).toMatch(/^ {2}D2 /m);
  });

  it("shows ownership of a prod schema as a write", () => {
    const owned = { ...boundary, schemas: boundary.schemas.map((s) => (s.name === "prod_product" ? { ...s, owner: "dev_dave" } : s)) };
    const audit = declaredWriters(owned);
    expect(writersOn(audit, "prod_product")).toEqual([
      { principal: "dave", kind: "developer", chain: ["dave", "dev_dave"], from: "ownership", admin: false },
      SVC_PROD,
    ]);
  });

  it("lists PUBLIC once, not once per login", () => {
    const audit = declaredWriters(publicWritesProdMarketing(boundary));
    const publicWriters = writersOn(audit, "prod_marketing").filter((w) => w.kind === "public");
    expect(publicWriters).toEqual([{ principal: "PUBLIC", kind: "public", chain: ["PUBLIC"], from: "public grant", admin: false }]);
  });
});

/** Rosters the builder accepts, made directly (parsing is the roster tests' business and costs ~0.2 s a roster). */
const rosters: fc.Arbitrary<Roster> = fc
  .record({
    developers: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), { minLength: 1, maxLength: 8 }),
    domains: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,5}$/), { minLength: 1, maxLength: 6 }),
    purposes: fc.array(fc.constantFrom("prod" as const, "ci" as const), { minLength: 0, maxLength: 3 }),
    restrictedEvery: fc.integer({ min: 1, max: 4 }),
  })
  .map(({ developers, domains, purposes, restrictedEvery }) => {
    const domainList = domains.map((name, i) => {
      const restricted = i % restrictedEvery === 0;
      return { name, restricted, readers: restricted ? developers.filter((_, d) => (d + i) % 2 === 0) : [] };
    });
    return {
      domains: domainList,
      developers: developers.map((name) => ({
        name, email: `${name}@acme.example`, snowflakeUser: name.toUpperCase(), postgresLogin: name,
        domains: domainList.filter((d) => !d.restricted || d.readers.includes(name)).map((d) => d.name),
      })),
      serviceAccounts: ["prod" as const, ...purposes].map((purpose, i) => ({
        name: `svc_${purpose}${i}`, purpose, snowflakeUser: `SVC_${purpose.toUpperCase()}${i}`, postgresLogin: `svc_${purpose}${i}`,
      })),
    };
  });

describe("declared writers of random rosters", () => {
  it("are always the purpose: prod service accounts through prod_writer, plus the provisioner", () => {
    fc.assert(
      fc.property(rosters, (roster) => {
        const prodAccounts = roster.serviceAccounts.filter((a) => a.purpose === "prod").map((a) => a.name).sort();
        const audit = declaredWriters(buildBoundary(roster));
        expect(audit.schemas).toHaveLength(roster.domains.length);
        for (const s of audit.schemas) {
          const declared = s.writers.filter((w) => !w.admin);
          expect(declared.map((w) => w.principal).sort()).toEqual(prodAccounts);
          for (const w of declared) expect(w.chain).toEqual([w.principal, "prod_writer"]);
          expect(s.writers.filter((w) => w.admin)).toEqual([PROVISIONER_OWNS]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
