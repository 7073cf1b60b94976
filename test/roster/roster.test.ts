import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoster, parseRoster } from "../../infra/roster/load";
import { RosterError } from "../../infra/roster/problems";
import type { Roster } from "../../infra/roster/types";

// What a valid roster means once parsed: the defaults team.yaml leaves out, filled in.

const SHIPPED = join(__dirname, "..", "..", "team.yaml");

/** The rsa_public_key values as written in team.yaml, in order. */
const shippedKeys = [...readFileSync(SHIPPED, "utf8").matchAll(/rsa_public_key: (\S+)/g)].map((m) => m[1]!);

function valid(source: string): Roster {
  const result = parseRoster(source);
  if (result.problems) throw new Error(`expected a valid roster, got:\n${result.problems.map((p) => p.message).join("\n")}`);
  return result.roster;
}

describe("the shipped team.yaml", () => {
  const roster = loadRoster(SHIPPED);

  it("is valid and reads as the example roster, defaults filled in", () => {
    expect(roster).toEqual({
      domains: [
        { name: "sales", description: "Opportunities, accounts and bookings from Salesforce", restricted: false, readers: [] },
        { name: "marketing", description: "Campaigns, ad spend and web attribution", restricted: false, readers: [] },
        { name: "product", description: "Product events and feature usage", restricted: false, readers: [] },
        { name: "finance", description: "Invoices, payments and revenue recognition", restricted: true, readers: ["carol", "erin"] },
      ],
      developers: [
        // No domains listed: every domain alice can read, so not the restricted finance.
        { name: "alice", email: "alice@acme.example", domains: ["sales", "marketing", "product"], snowflakeUser: "ALICE", postgresLogin: "alice" },
        { name: "bob", email: "bob@acme.example", domains: ["sales", "marketing"], snowflakeUser: "BOB", postgresLogin: "bob" },
        // No domains listed, and a finance reader: every domain, finance included.
        { name: "carol", email: "carol@acme.example", domains: ["sales", "marketing", "product", "finance"], snowflakeUser: "CAROL.DIAZ@ACME.EXAMPLE", postgresLogin: "carol" },
        { name: "dave", email: "dave@acme.example", domains: ["product"], snowflakeUser: "DAVE", postgresLogin: "dave_k" },
        { name: "erin", email: "erin@acme.example", domains: ["finance", "sales"], snowflakeUser: "ERIN", postgresLogin: "erin" },
      ],
      serviceAccounts: [
        { name: "svc_prod", purpose: "prod", rsaPublicKey: shippedKeys[0], snowflakeUser: "SVC_PROD", postgresLogin: "svc_prod" },
        { name: "svc_ci", purpose: "ci", rsaPublicKey: shippedKeys[1], snowflakeUser: "SVC_CI", postgresLogin: "svc_ci" },
      ],
    });
  });

  it("ships 2048-bit RSA public keys as bare base64 bodies", () => {
    expect(shippedKeys).toHaveLength(2);
    for (const account of roster.serviceAccounts) {
      expect(account.rsaPublicKey).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      const key = createPublicKey({ key: Buffer.from(account.rsaPublicKey!, "base64"), format: "der", type: "spki" });
      expect(key.asymmetricKeyType).toBe("rsa");
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    }
  });
});

describe("defaults and normalization", () => {
  const publicKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
  const body = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();

  const ALICE = "  - name: alice\n    email: alice@acme.example\n";
  const BOB = "  - name: bob\n    email: bob@acme.example\n";
  const roster = (account: string, developers = ALICE + BOB) =>
    `domains:\n  - name: sales\n  - name: hr\n    restricted: true\n    readers: [bob]\ndevelopers:\n${developers}service_accounts:\n${account}`;

  it("normalizes a PEM public key, armour and line breaks included, to the bare base64 body", () => {
    expect(pem).toContain("-----BEGIN PUBLIC KEY-----\n");
    const block = pem.trim().split("\n").map((line) => `      ${line}`).join("\n");
    const parsed = valid(roster(`  - name: svc_prod\n    purpose: prod\n    rsa_public_key: |\n${block}\n`));
    expect(parsed.serviceAccounts[0]!.rsaPublicKey).toBe(body);
  });

  it("keeps a bare base64 key as it is", () => {
    const parsed = valid(roster(`  - name: svc_prod\n    purpose: prod\n    rsa_public_key: ${body}\n`));
    expect(parsed.serviceAccounts[0]!.rsaPublicKey).toBe(body);
  });

  it("takes a second key for rotation, normalized the same way", () => {
    const next = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const parsed = valid(roster(`  - name: svc_prod\n    purpose: prod\n    rsa_public_key: ${body}\n    rsa_public_key_2: ${next}\n`));
    expect(parsed.serviceAccounts[0]).toMatchObject({ rsaPublicKey: body, rsaPublicKey2: next });
  });

  it("refuses a private key as the second key too", () => {
    const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const block = privateKey.trim().split("\n").map((line) => `      ${line}`).join("\n");
    const result = parseRoster(roster(`  - name: svc_prod\n    purpose: prod\n    rsa_public_key: ${body}\n    rsa_public_key_2: |\n${block}\n`));
    expect(result.problems?.map((p) => `${p.path}: ${p.message}`)).toEqual([expect.stringMatching(/^service_accounts\[0\]\.rsa_public_key_2: is a PRIVATE key/)]);
  });

  it("requires a key of every service account when the stack deploys Snowflake, naming the line", () => {
    const source = roster(`  - name: svc_prod\n    purpose: prod\n    rsa_public_key: ${body}\n  - name: svc_ci\n    purpose: ci\n`);
    expect(parseRoster(source, "team.yaml", { platforms: ["postgres"] }).problems).toBeUndefined();
    const problems = parseRoster(source, "team.yaml", { platforms: ["postgres", "snowflake"] }).problems ?? [];
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.path}: ${p.message}`)).toEqual([
      "team.yaml:15: service_accounts[1]: has no rsa_public_key, and the stack deploys Snowflake, where a service user may log in with a key pair only: it could never log in. Add rsa_public_key: the output of `openssl rsa -in rsa_key.p8 -pubout`",
    ]);
  });

  it("leaves rsaPublicKey out when the roster gives none", () => {
    const parsed = valid(roster("  - name: svc_prod\n    purpose: prod\n"));
    expect(parsed.serviceAccounts[0]).toEqual({ name: "svc_prod", purpose: "prod", snowflakeUser: "SVC_PROD", postgresLogin: "svc_prod" });
  });

  it("gives a developer with no domains every unrestricted domain, and restricted ones only to their readers", () => {
    const parsed = valid(roster("  - name: svc_prod\n    purpose: prod\n"));
    expect(parsed.developers.map((d) => [d.name, d.domains])).toEqual([["alice", ["sales"]], ["bob", ["sales", "hr"]]]);
  });

  it("reads an explicit empty domains list as no personal schemas, not as the default", () => {
    const parsed = valid(roster("  - name: svc_prod\n    purpose: prod\n", `${ALICE}    domains: []\n${BOB}`));
    expect(parsed.developers.map((d) => [d.name, d.domains])).toEqual([["alice", []], ["bob", ["sales", "hr"]]]);
  });

  it("defaults restricted to false, with an empty readers list, and keeps a restricted domain's readers", () => {
    const parsed = valid(roster("  - name: svc_prod\n    purpose: prod\n"));
    expect(parsed.domains).toEqual([
      { name: "sales", restricted: false, readers: [] },
      { name: "hr", restricted: true, readers: ["bob"] },
    ]);
  });
});

describe("loadRoster", () => {
  const dir = mkdtempSync(join(tmpdir(), "roster-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("throws a RosterError naming the file when it does not exist", () => {
    const missing = join(dir, "nowhere.yaml");
    expect(() => loadRoster(missing)).toThrow(RosterError);
    expect(() => loadRoster(missing)).toThrow(`${missing}:1:1: (root): the roster file does not exist. Pass --roster PATH or create team.yaml.`);
  });

  it("throws one RosterError carrying every problem, located in that file", () => {
    const file = join(dir, "team.yaml");
    writeFileSync(file, "domains: []\ndevelopers: []\nservice_accounts: []\n");
    let error: unknown;
    try {
      loadRoster(file);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RosterError);
    expect((error as RosterError).message.split("\n")).toEqual([
      `${file}:1:1: domains: lists no domain. Add at least one domain.`,
      `${file}:2:1: developers: lists no developer. Add at least one developer.`,
      `${file}:3:1: service_accounts: lists no service account. Add one with purpose: prod.`,
    ]);
    expect((error as RosterError).problems.map((p) => p.file)).toEqual([file, file, file]);
  });
});
