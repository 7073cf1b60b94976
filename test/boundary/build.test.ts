import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { accessPaths, reachableRoles, type AccessPath } from "../../infra/boundary/access";
import { buildBoundary } from "../../infra/boundary/build";
import { checkBoundary } from "../../infra/boundary/rules";
import { parseRosterText } from "../support/arbitraries";

// The boundary the shipped team.yaml declares, read the way DESIGN.md states it.
// The roster: domains sales, marketing, product and finance (restricted to carol and erin); developers alice (all
// she may read), bob (sales, marketing), carol (all, snowflake_user CAROL.DIAZ@ACME.EXAMPLE), dave (product,
// postgres_login dave_k), erin (finance, sales); service accounts svc_prod (prod) and svc_ci (ci).

const TEAM_YAML = path.resolve(__dirname, "../../team.yaml");
const shippedRoster = () => parseRosterText(readFileSync(TEAM_YAML, "utf8"), TEAM_YAML);
const boundary = buildBoundary(shippedRoster());
const paths = accessPaths(boundary);

const who = (list: AccessPath[]) => [...new Set(list.map((p) => p.principal))].sort();
const schemasOwnedBy = (role: string) => boundary.schemas.filter((s) => s.owner === role).map((s) => s.name);
const membersOf = (role: string) => boundary.memberships.filter((m) => m.role === role).map((m) => m.member).sort();
const rolesOf = (member: string) => boundary.memberships.filter((m) => m.member === member).map((m) => m.role).sort();
const grantsTo = (role: string) => boundary.grants.filter((g) => g.role === role).map((g) => `${g.access} ${g.schema}`);
const pathOf = (principal: string, schema: string) => paths.filter((p) => p.principal === principal && p.schema === schema);

const DEVELOPERS = ["alice", "bob", "carol", "dave", "erin"];
const PROD = ["prod_finance", "prod_marketing", "prod_product", "prod_sales"];
const UNRESTRICTED_PROD = ["prod_marketing", "prod_product", "prod_sales"];

describe("the shipped roster's boundary: what is declared", () => {
  it("has the five developers and the two service accounts as principals, with their platform logins", () => {
    expect(boundary.principals.map((p) => [p.name, p.kind, p.purpose ?? "-", p.logins.postgres, p.logins.snowflake])).toEqual([
      ["alice", "developer", "-", "alice", "ALICE"],
      ["bob", "developer", "-", "bob", "BOB"],
      ["carol", "developer", "-", "carol", "CAROL.DIAZ@ACME.EXAMPLE"],
      ["dave", "developer", "-", "dave_k", "DAVE"],
      ["erin", "developer", "-", "erin", "ERIN"],
      ["svc_ci", "service", "ci", "svc_ci", "SVC_CI"],
      ["svc_prod", "service", "prod", "svc_prod", "SVC_PROD"],
    ]);
  });

  it("keeps the developers' emails and the service accounts' public keys, and no key for a developer", () => {
    const alice = boundary.principals.find((p) => p.name === "alice");
    expect(alice?.email).toBe("alice@acme.example");
    expect(alice?.rsaPublicKey).toBeUndefined();
    for (const account of ["svc_prod", "svc_ci"])
      expect(boundary.principals.find((p) => p.name === account)?.rsaPublicKey).toMatch(/^MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A[A-Za-z0-9+/]+=*$/);
  });

  it("has one role per developer, one reader role for the restricted domain, and the three built-in roles", () => {
    expect(boundary.roles.map((r) => [r.name, r.kind, r.of ?? "-"])).toEqual([
      ["ci_builder", "ci_builder", "-"],
      ["dev_alice", "developer", "alice"],
      ["dev_bob", "developer", "bob"],
      ["dev_carol", "developer", "carol"],
      ["dev_dave", "developer", "dave"],
      ["dev_erin", "developer", "erin"],
      ["prod_finance_reader", "restricted_reader", "finance"],
      ["prod_reader", "prod_reader", "-"],
      ["prod_writer", "prod_writer", "-"],
    ]);
  });

  it("has one prod schema per domain, owned by the provisioner (no role); prod_finance is restricted to carol and erin", () => {
    const prod = boundary.schemas.filter((s) => s.kind === "prod");
    expect(prod.map((s) => [s.name, s.domain, s.owner, s.restricted])).toEqual([
      ["prod_finance", "finance", null, true],
      ["prod_marketing", "marketing", null, false],
      ["prod_product", "product", null, false],
      ["prod_sales", "sales", null, false],
    ]);
    expect(prod.find((s) => s.name === "prod_finance")?.readers).toEqual(["carol", "erin"]);
    expect(prod.filter((s) => !s.restricted).every((s) => s.readers === undefined)).toBe(true);
  });

  it("gives each developer a schema per domain they work on, owned by their own role unless it copies a restricted domain", () => {
    expect(schemasOwnedBy("dev_alice")).toEqual(["alice_marketing", "alice_product", "alice_sales"]); // all she may read: no finance
    expect(schemasOwnedBy("dev_bob")).toEqual(["bob_marketing", "bob_sales"]); // listed
    expect(schemasOwnedBy("dev_carol")).toEqual(["carol_marketing", "carol_product", "carol_sales"]); // carol_finance: below
    expect(schemasOwnedBy("dev_dave")).toEqual(["dave_product"]);
    expect(schemasOwnedBy("dev_erin")).toEqual(["erin_sales"]);
    for (const schema of boundary.schemas.filter((s) => s.kind === "developer")) {
      expect(schema.name).toBe(`${schema.developer}_${schema.domain}`);
      expect(schema.owner).toBe(schema.domain === "finance" ? null : `dev_${schema.developer}`);
      expect(schema.restricted).toBe(schema.domain === "finance");
    }
  });

  it("leaves the finance readers' copies to the provisioner, with write (USAGE and CREATE) for their developer's role only", () => {
    const copies = boundary.schemas.filter((s) => s.kind === "developer" && s.restricted);
    expect(copies.map((s) => [s.name, s.owner])).toEqual([["carol_finance", null], ["erin_finance", null]]);
    expect(boundary.grants.filter((g) => g.schema === "carol_finance" || g.schema === "erin_finance")).toEqual([
      { role: "dev_carol", schema: "carol_finance", access: "write" },
      { role: "dev_erin", schema: "erin_finance", access: "write" },
    ]);
  });

  it("grants write on every prod schema to prod_writer, and to no one else", () => {
    expect(grantsTo("prod_writer")).toEqual(PROD.map((s) => `write ${s}`));
    expect(boundary.grants.filter((g) => g.access === "write" && g.schema.startsWith("prod_")).every((g) => g.role === "prod_writer")).toBe(true);
  });

  it("grants read on the unrestricted prod schemas to prod_reader, and on prod_finance only to prod_finance_reader", () => {
    expect(grantsTo("prod_reader")).toEqual(UNRESTRICTED_PROD.map((s) => `read ${s}`));
    expect(grantsTo("prod_finance_reader")).toEqual(["read prod_finance"]);
    expect(boundary.grants.filter((g) => g.schema === "prod_finance").map((g) => g.role).sort()).toEqual(["prod_finance_reader", "prod_writer"]);
  });

  it("grants nothing to PUBLIC and nothing on developer schemas their developer owns", () => {
    expect(grantsTo("public")).toEqual([]);
    expect(membersOf("public")).toEqual([]);
    expect(boundary.grants.filter((g) => !g.schema.startsWith("prod_")).map((g) => g.schema)).toEqual(["carol_finance", "erin_finance"]);
  });

  it("puts each developer in their own role only, and every developer role in prod_reader", () => {
    for (const dev of DEVELOPERS) expect(rolesOf(dev)).toEqual([`dev_${dev}`]);
    expect(membersOf("prod_reader")).toEqual(["ci_builder", ...DEVELOPERS.map((d) => `dev_${d}`)]);
  });

  it("puts only carol's and erin's roles in prod_finance_reader", () => {
    expect(membersOf("prod_finance_reader")).toEqual(["dev_carol", "dev_erin"]);
  });

  it("makes svc_prod the only member of prod_writer, and svc_ci a member of ci_builder only", () => {
    expect(membersOf("prod_writer")).toEqual(["svc_prod"]);
    expect(rolesOf("svc_prod")).toEqual(["prod_writer"]);
    expect(rolesOf("svc_ci")).toEqual(["ci_builder"]);
    expect(rolesOf("ci_builder")).toEqual(["prod_reader"]);
  });

  it("lets ci_builder create the throwaway ci_ schemas", () => {
    expect(boundary.ciSchemas).toEqual({ creator: "ci_builder", prefix: "ci_", restrictedCopies: [] }); // svc_ci reads no restricted domain
  });

  it("breaks none of the deny rules", () => {
    expect(checkBoundary(boundary)).toEqual([]);
  });
});

describe("the shipped roster's boundary: who can do what (effective access)", () => {
  it("carol and erin read prod_finance through prod_finance_reader; alice, bob, dave and svc_ci do not", () => {
    expect(who(paths.filter((p) => p.schema === "prod_finance"))).toEqual(["carol", "erin", "svc_prod"]);
    expect(pathOf("carol", "prod_finance")).toEqual([
      { principal: "carol", schema: "prod_finance", access: "read", via: ["dev_carol", "prod_finance_reader"], source: "grant" },
    ]);
    expect(pathOf("erin", "prod_finance").map((p) => p.via)).toEqual([["dev_erin", "prod_finance_reader"]]);
    for (const outsider of ["alice", "bob", "dave", "svc_ci"]) expect(pathOf(outsider, "prod_finance")).toEqual([]);
  });

  it("only svc_prod writes any prod schema, through prod_writer", () => {
    for (const schema of PROD)
      expect(paths.filter((p) => p.schema === schema && p.access === "write")).toEqual([
        { principal: "svc_prod", schema, access: "write", via: ["prod_writer"], source: "grant" },
      ]);
  });

  it("svc_ci reaches prod_reader through ci_builder, reads the unrestricted prod schemas, and cannot read prod_finance", () => {
    expect(reachableRoles(boundary, "svc_ci")).toEqual(new Map([["ci_builder", ["ci_builder"]], ["prod_reader", ["ci_builder", "prod_reader"]]]));
    expect(paths.filter((p) => p.principal === "svc_ci").map((p) => [p.access, p.schema, p.via.join(" → ")])).toEqual(
      UNRESTRICTED_PROD.map((s) => ["read", s, "ci_builder → prod_reader"]),
    );
  });

  it("every developer reads the unrestricted prod schemas through their role and prod_reader", () => {
    for (const dev of DEVELOPERS)
      for (const schema of UNRESTRICTED_PROD)
        expect(pathOf(dev, schema)).toEqual([{ principal: dev, schema, access: "read", via: [`dev_${dev}`, "prod_reader"], source: "grant" }]);
  });

  it("every developer writes exactly their own schemas through their role (as owner, or by the write grant on a restricted copy), and nothing else", () => {
    for (const dev of DEVELOPERS) {
      const writes = paths.filter((p) => p.principal === dev && p.access === "write");
      const own = boundary.schemas.filter((s) => s.developer === dev).map((s) => s.name);
      expect(writes.map((p) => p.schema).sort()).toEqual(own);
      for (const p of writes) expect([p.source, p.via.join()]).toEqual([p.schema.endsWith("_finance") ? "grant" : "owner", `dev_${dev}`]);
    }
  });

  it("a developer schema is written and read by its developer alone", () => {
    expect(who(paths.filter((p) => p.schema === "bob_sales"))).toEqual(["bob"]);
    expect(who(paths.filter((p) => p.schema === "erin_finance" && p.access === "write"))).toEqual(["erin"]);
  });

  it("svc_prod writes (and so reads) every prod schema and nothing else", () => {
    expect(paths.filter((p) => p.principal === "svc_prod").map((p) => `${p.access} ${p.schema}`)).toEqual(PROD.map((s) => `write ${s}`));
  });

  it("reaches each role by its shortest chain", () => {
    expect(reachableRoles(boundary, "erin")).toEqual(
      new Map([
        ["dev_erin", ["dev_erin"]],
        ["prod_finance_reader", ["dev_erin", "prod_finance_reader"]],
        ["prod_reader", ["dev_erin", "prod_reader"]],
      ]),
    );
    expect(reachableRoles(boundary, "svc_prod")).toEqual(new Map([["prod_writer", ["prod_writer"]]]));
  });
});

describe("buildBoundary's promises beyond one roster", () => {
  it("counts a domain or a reader listed twice once (the validator rejects repeats; the builder does not rely on it)", () => {
    const roster = shippedRoster();
    const finance = roster.domains.find((d) => d.name === "finance")!;
    finance.readers = [...finance.readers, ...finance.readers];
    const erin = roster.developers.find((d) => d.name === "erin")!;
    erin.domains = [...erin.domains, ...erin.domains];
    const twice = buildBoundary(roster);
    expect(twice).toEqual(boundary);
    expect(checkBoundary(twice)).toEqual([]);
  });

  it("returns a fresh boundary each time: mutating one does not change the next", () => {
    const first = buildBoundary(shippedRoster());
    first.grants.push({ role: "public", schema: "prod_sales", access: "read" });
    first.schemas[0]!.owner = "someone";
    expect(buildBoundary(shippedRoster())).toEqual(boundary);
  });
});
