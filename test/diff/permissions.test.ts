import * as path from "node:path";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { buildBoundary } from "../../infra/boundary/build";
import type { Boundary } from "../../infra/boundary/model";
import { checkBoundary } from "../../infra/boundary/rules";
import { renderDiffMarkdown } from "../../infra/diff/markdown";
import type { PermissionDiff } from "../../infra/diff/model";
import { keyFingerprint, permissionDiff } from "../../infra/diff/permissions";
import { diffReport } from "../../infra/diff/report";
import { parseRoster } from "../../infra/roster/load";
import { stackSettingsFromConfig, type StackSettings } from "../../infra/stack";
import { baseRoster, rosterText, stackConfig, type RosterDoc } from "./repo";

// The diff on boundaries, no git: each group, its wording, and what must not count as a change.

function boundaryOf(doc: RosterDoc): Boundary {
  const result = parseRoster(rosterText(doc), "team.yaml");
  if (result.problems) throw new Error(result.problems.map((p) => p.message).join("\n"));
  return buildBoundary(result.roster);
}

const settingsOf = (text: string): StackSettings =>
  stackSettingsFromConfig((parse(text) as { config: Record<string, unknown> }).config, "Pulumi.prod.yaml");

const STACK = settingsOf(stackConfig());
const markdown = (diff: PermissionDiff, after: Boundary) =>
  renderDiffMarkdown(diffReport(diff, { base: "main", roster: "team.yaml", baseRoster: "main:team.yaml", stackConfig: "Pulumi.prod.yaml" }, checkBoundary(after)));

function change(edit: (doc: RosterDoc) => void, before: RosterDoc = baseRoster()) {
  const after = structuredClone(before);
  edit(after);
  const afterBoundary = boundaryOf(after);
  const diff = permissionDiff(boundaryOf(before), afterBoundary, { before: STACK, after: STACK });
  return { diff, text: markdown(diff, afterBoundary) };
}

// Two distinct valid keys, from the shipped roster.
const shippedKeys = (parse(readFileSync(path.resolve(__dirname, "../../team.yaml"), "utf8")) as RosterDoc).service_accounts.map((a) => a.rsa_public_key!);

describe("permissionDiff", () => {
  it("finds no change when only order, descriptions and emails change", () => {
    const { diff, text } = change((doc) => {
      doc.domains.reverse();
      doc.developers.reverse();
      doc.domains[0]!.description = "now described";
      doc.developers[0]!.email = "someone.else@acme.example";
    });
    expect(diff.changed).toBe(false);
    expect([diff.prodWrite, diff.prodRead, diff.principals, diff.schemas, diff.settings]).toEqual([[], [], [], [], []]);
    expect(text).toBe(
      "## Permission changes against `main`\n\n" +
        "No permission changes: team.yaml and Pulumi.prod.yaml grant the same access as on `main`.\n\n" +
        "Deny rules D1–D5: all hold on the new roster.\n",
    );
  });

  it("onboards a developer: reads in group 2, the person and their schemas in group 3, nothing in group 1", () => {
    const { diff, text } = change((doc) => {
      doc.developers.push({ name: "frank", email: "frank@acme.example", domains: ["sales", "marketing"] });
    });
    expect(diff.prodWrite).toEqual([]);
    expect(diff.prodRead.map((c) => `${c.principal} ${c.change} ${c.access} ${c.schema} via ${c.via.join(">")}`)).toEqual([
      "frank gains read prod_marketing via dev_frank>prod_reader",
      "frank gains read prod_sales via dev_frank>prod_reader",
    ]);
    expect(diff.principals).toEqual([{ change: "added", principal: "frank", kind: "developer", email: "frank@acme.example", role: "dev_frank" }]);
    expect(diff.schemas.map((s) => `${s.change} ${s.schema} ${s.owner}`)).toEqual(["created frank_marketing dev_frank", "created frank_sales dev_frank"]);
    expect(text).toContain("✅ No change: only svc_prod can write to prod schemas.");
    expect(text).toContain("- **frank** gains read on prod_marketing, prod_sales through dev_frank → prod_reader\n");
    expect(text).toContain("- ➕ Developer **frank** (frank@acme.example) joins: role dev_frank, owner of new schemas frank_marketing, frank_sales.\n");
    expect(text).toContain("**Summary:** no prod write change · 2 reads gained · 1 developer added · 2 schemas created.\n");
    expect(text).not.toContain("🚨");
  });

  it("puts a reader added to a restricted domain first, in a reviewer's words", () => {
    const { diff, text } = change((doc) => {
      doc.domains[2]!.readers!.push("alice");
      doc.developers.push({ name: "frank", email: "frank@acme.example", domains: ["sales"] });
    });
    expect(diff.prodRead[0]).toMatchObject({ principal: "alice", change: "gains", schema: "prod_finance", restricted: true, via: ["dev_alice", "prod_finance_reader"] });
    expect(diff.summary.restrictedReadChanges).toBe(1);
    const reads = text.split("### Read access on prod schemas\n\n")[1]!.split("\n\n")[0]!.split("\n");
    expect(reads).toEqual([
      "- 🔒 **alice** gains read on prod_finance (restricted) through dev_alice → prod_finance_reader",
      "- **frank** gains read on prod_marketing, prod_sales through dev_frank → prod_reader",
    ]);
    expect(text).toContain("3 reads gained (1 on a restricted schema)");
  });

  it("says \"CI can read prod_finance\" when the CI account joins a restricted domain's readers, and the reverse when it leaves", () => {
    const ciAccount = baseRoster().service_accounts.find((a) => a.purpose === "ci")!.name;
    const { diff, text } = change((doc) => void doc.domains[2]!.readers!.push(ciAccount));
    expect(diff.prodRead).toEqual([expect.objectContaining({ principal: ciAccount, kind: "ci service account", change: "gains", schema: "prod_finance", restricted: true, via: ["ci_builder", "prod_finance_reader"] })]);
    expect(text).toContain(`- 🔒 CI can read prod_finance (restricted): **${ciAccount}** (ci service account) gains read through ci_builder → prod_finance_reader; every CI run, code from any pull request, reads it\n`);
    expect(text).toContain("1 read gained (1 on a restricted schema)");
    const back = change((doc) => void (doc.domains[2]!.readers = doc.domains[2]!.readers!.filter((r) => r !== ciAccount)), (() => {
      const doc = baseRoster();
      doc.domains[2]!.readers!.push(ciAccount);
      return doc;
    })());
    expect(back.text).toContain(`- 🔒 CI can no longer read prod_finance (restricted): **${ciAccount}** (ci service account) loses read through ci_builder → prod_finance_reader\n`);
  });

  it("removes a developer: reads lost, role dropped, schemas retained with what each platform does", () => {
    const { diff, text } = change((doc) => {
      doc.developers = doc.developers.filter((d) => d.name !== "carol");
      doc.domains[2]!.readers = [];
    });
    expect(diff.prodWrite).toEqual([]);
    expect(diff.prodRead[0]).toMatchObject({ principal: "carol", change: "loses", schema: "prod_finance", restricted: true });
    expect(diff.schemas.map((s) => `${s.schema} ${s.fate} ${s.developerRemoved}`)).toEqual(["carol_finance retained true", "carol_sales retained true"]);
    expect(text).toContain("- 🔒 **carol** loses read on prod_finance (restricted) through dev_carol → prod_finance_reader\n");
    expect(text).toContain(
      "- ➖ Developer **carol** (carol@acme.example) leaves: role dev_carol and the logins are dropped. " +
        "Schemas carol_finance, carol_sales: retained, never dropped: on PostgreSQL ownership moves to the provisioner (provisioner) when dev_carol is dropped (REASSIGN OWNED); " +
        "on Snowflake each is handed back to the provisioner role (SYSADMIN) (a restricted copy never left it).\n",
    );
    expect(text).toContain("1 developer removed · 2 developer schemas retained");
  });

  it("says a developer schema leaving the roster stays, owned by the developer on PostgreSQL", () => {
    const { diff, text } = change((doc) => {
      doc.developers[1]!.domains = ["finance"];
    });
    expect(diff.schemas).toEqual([
      { change: "removed", schema: "carol_sales", kind: "developer", domain: "sales", developer: "carol", developerRemoved: false, owner: "dev_carol", restricted: false, fate: "retained" },
    ]);
    expect(text).toContain("- 📦 Schema carol_sales leaves the roster: retained, never dropped: on PostgreSQL it stays owned by dev_carol, no longer managed by Pulumi; on Snowflake it is handed back to the provisioner role (SYSADMIN).\n");
  });

  it("removes a domain: the protected prod schema blocks pulumi up, and its readers lose read; the writer is not a write change", () => {
    const { diff, text } = change((doc) => {
      doc.domains = doc.domains.filter((d) => d.name !== "marketing");
    });
    expect(diff.prodWrite).toEqual([]);
    expect(diff.schemas).toEqual([
      { change: "removed", schema: "prod_marketing", kind: "prod", domain: "marketing", owner: null, restricted: false, fate: "protected" },
    ]);
    expect(text).toContain("- **alice**, **carol** and **svc_ci** (ci service account) lose read on prod_marketing through prod_reader\n");
    expect(text).toContain(
      "- ⛔ Prod schema **prod_marketing** leaves the roster. It is protected, so `pulumi up` stops with an error at this schema until someone unprotects it on purpose (`pulumi state unprotect`); its data stays.",
    );
    expect(text).toContain("1 protected prod schema blocking `pulumi up`");
  });

  it("adds a domain: its readers gain read, the existing writer writes it without a write change", () => {
    const { diff, text } = change((doc) => {
      doc.domains.push({ name: "hr", restricted: true, readers: ["alice"] });
    });
    expect(diff.prodWrite).toEqual([]);
    expect(diff.prodRead.map((c) => `${c.principal} ${c.schema}`)).toEqual(["alice prod_hr"]);
    expect(text).toContain("- ➕ Prod schema **prod_hr** (restricted; readers: alice) created: written only through prod_writer, protected against deletion.\n");
  });

  it("flags a new prod service account loudly: it gains write on every prod schema", () => {
    const { diff, text } = change((doc) => {
      doc.service_accounts.push({ name: "svc_deploy", purpose: "prod" });
    });
    expect(diff.prodWrite.map((c) => `${c.principal} ${c.change} ${c.schema}`)).toEqual([
      "svc_deploy gains prod_finance", "svc_deploy gains prod_marketing", "svc_deploy gains prod_sales",
    ]);
    expect(diff.prodRead).toEqual([]);
    expect(text).toContain("### 🚨 WRITE ACCESS TO PROD CHANGES\n");
    expect(text).toContain(
      "- 🚨 **svc_deploy** (prod service account) **gains write** on prod_finance (restricted), prod_marketing, prod_sales through prod_writer\n",
    );
    expect(text).toContain("- ➕ Service account **svc_deploy** (prod service account) added: member of prod_writer.\n");
    expect(text).toContain("**Summary:** 🚨 3 prod write changes · 1 service account added.");
    // Group 1 comes before every other group.
    expect(text.indexOf("WRITE ACCESS TO PROD CHANGES")).toBeLessThan(text.indexOf("### Read access"));
  });

  it("flags a CI account turned into a prod account, and says which field changed", () => {
    const { diff, text } = change((doc) => {
      doc.service_accounts[1]!.purpose = "prod";
    });
    expect(diff.prodWrite).toHaveLength(3);
    expect(diff.principals).toEqual([
      { change: "changed", principal: "svc_ci", kind: "prod service account", roles: ["prod_writer"], fields: [{ field: "purpose", before: "ci", after: "prod" }] },
    ]);
    expect(text).toContain("**svc_ci** (prod service account) **gains write** on prod_finance (restricted), prod_marketing, prod_sales through prod_writer");
  });

  it("flags a prod account removed as a loss of write", () => {
    const withDeploy = baseRoster();
    withDeploy.service_accounts.push({ name: "svc_deploy", purpose: "prod" });
    const { diff, text } = change((doc) => {
      doc.service_accounts = doc.service_accounts.filter((a) => a.name !== "svc_deploy");
    }, withDeploy);
    expect(diff.prodWrite.map((c) => `${c.principal} ${c.change} ${c.schema} ${c.readsAfter}`)).toEqual([
      "svc_deploy loses prod_finance false", "svc_deploy loses prod_marketing false", "svc_deploy loses prod_sales false",
    ]);
    expect(text).toContain("- 🚨 **svc_deploy** (prod service account) **loses write** on prod_finance (restricted), prod_marketing, prod_sales through prod_writer\n");
    expect(text).toContain("- ➖ Service account **svc_deploy** (prod service account) removed: no longer a member of prod_writer; its logins are dropped.\n");
  });

  it("flags write handed to a developer through a role chain, even though no valid roster can say it", () => {
    const before = boundaryOf(baseRoster());
    const after: Boundary = { ...structuredClone(before), memberships: [...before.memberships, { member: "dev_alice", role: "prod_writer" }] };
    const diff = permissionDiff(before, after);
    expect(diff.prodWrite.map((c) => `${c.principal} ${c.change} ${c.schema} via ${c.via.join(" → ")}`)).toEqual([
      "alice gains prod_finance via dev_alice → prod_writer",
      "alice gains prod_marketing via dev_alice → prod_writer",
      "alice gains prod_sales via dev_alice → prod_writer",
    ]);
    // alice already read the unrestricted schemas; prod_finance's read comes with the write, so group 2 stays empty.
    expect(diff.prodRead).toEqual([]);
    const text = markdown(diff, after);
    expect(text).toContain("- 🚨 **alice** **gains write** on prod_finance (restricted), prod_marketing, prod_sales through dev_alice → prod_writer\n");
    expect(text).toContain("🚨 **The new roster breaks the deny rules:**");
  });

  it("flags write granted to PUBLIC as every principal gaining write through PUBLIC", () => {
    const before = boundaryOf(baseRoster());
    const after: Boundary = { ...structuredClone(before), grants: [...before.grants, { role: "public", schema: "prod_sales", access: "write" }] };
    const diff = permissionDiff(before, after);
    expect(diff.prodWrite.map((c) => `${c.principal} ${c.source}`)).toEqual(["alice public", "carol public", "svc_ci public"]);
    expect(markdown(diff, after)).toContain("- 🚨 **alice** **gains write** on prod_sales through PUBLIC\n");
  });

  it("treats the first roster as all new: the writer is a write change, every read a gain", () => {
    const after = boundaryOf(baseRoster());
    const diff = permissionDiff(undefined, after, { after: STACK });
    expect(diff.firstRoster).toBe(true);
    expect(diff.prodWrite.map((c) => c.principal)).toEqual(["svc_prod", "svc_prod", "svc_prod"]);
    expect(diff.summary).toMatchObject({ developersAdded: 2, serviceAccountsAdded: 2, schemasCreated: 3 + 3, settingsChanged: 2 });
    expect(diff.settings).toEqual([
      { setting: "platforms", added: ["postgres", "snowflake"], removed: [] },
      { setting: "database", before: null, after: "analytics" },
    ]);
    const text = markdown(diff, after);
    expect(text).toContain("> `main:team.yaml` does not exist: this is the first roster, so everything below is new.");
    expect(text).toContain("- 🔒 **carol** gains read on prod_finance (restricted) through dev_carol → prod_finance_reader");
  });

  it("makes a domain restricted: the readers it drops lose read, and the schema says so", () => {
    const { diff, text } = change((doc) => {
      doc.domains[1] = { name: "marketing", restricted: true, readers: ["carol"] };
    });
    // carol still reads prod_marketing, now through prod_marketing_reader: the same access, so no change.
    expect(diff.prodRead.map((c) => `${c.principal} ${c.change} ${c.schema} ${c.restricted}`)).toEqual([
      "alice loses prod_marketing true",
      "svc_ci loses prod_marketing true",
    ]);
    expect(diff.schemas.map((s) => `${s.change} ${s.schema}`)).toEqual(["restricted prod_marketing"]);
    expect(text).toContain("- 🔒 **alice** and **svc_ci** (ci service account) lose read on prod_marketing (restricted) through prod_reader\n");
    expect(text).toContain("- 🔒 Prod schema **prod_marketing** (restricted; readers: carol) becomes restricted: only its listed readers and the writer can read it.\n");
  });

  it("reports login and key changes, with key fingerprints and never the key", () => {
    const [oldKey, newKey] = shippedKeys;
    const before = baseRoster();
    before.service_accounts[0]!.rsa_public_key = oldKey;
    const { diff, text } = change((doc) => {
      doc.developers[0]!.postgres_login = "alice_k";
      doc.service_accounts[0]!.rsa_public_key = newKey;
    }, before);
    expect(diff.prodWrite).toEqual([]);
    expect(diff.principals.map((p) => [p.principal, p.fields])).toEqual([
      ["svc_prod", [{ field: "key-pair key", before: keyFingerprint(oldKey!), after: keyFingerprint(newKey!) }]],
      ["alice", [{ field: "postgres login", before: "alice", after: "alice_k" }]],
    ]);
    expect(keyFingerprint(oldKey!)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}=$/);
    expect(JSON.stringify(diff)).not.toContain(oldKey!.slice(0, 40));
    expect(text).toContain("- ✏️ Developer **alice**: postgres login alice → alice_k (the old login is dropped and the new one created).\n");
  });

  it("reports the stack settings that matter, and only those", () => {
    const before = boundaryOf(baseRoster());
    const postgresOnly = settingsOf(stackConfig(["postgres"]));
    const added = permissionDiff(before, before, { before: postgresOnly, after: STACK });
    expect(added.settings).toEqual([{ setting: "platforms", added: ["snowflake"], removed: [] }]);
    expect(markdown(added, before)).toContain("- ⚙️ Stack: Snowflake added: `pulumi up` manages every role, schema and grant there.\n");
    const removed = permissionDiff(before, before, { before: STACK, after: postgresOnly });
    expect(removed.settings).toEqual([{ setting: "platforms", added: [], removed: ["snowflake"] }]);
    // On a PostgreSQL-only stack, the data wording speaks of PostgreSQL alone.
    expect(removed.platforms).toEqual(["postgres"]);
    const moved = permissionDiff(before, before, { before: STACK, after: settingsOf(stackConfig(undefined, "warehouse")) });
    expect(moved.settings).toEqual([{ setting: "database", before: "analytics", after: "warehouse" }]);
    const admin = { ...STACK, snowflake: { ...STACK.snowflake!, adminRole: "PROVISIONER" } };
    expect(permissionDiff(before, before, { before: STACK, after: admin }).settings).toEqual([{ setting: "snowflake.adminRole", before: "SYSADMIN", after: "PROVISIONER" }]);
    const warehouses = { ...STACK, snowflake: { ...STACK.snowflake!, warehouses: { developers: "BIG_WH", ci: "CI_WH", prod: "PROD_WH" } } };
    expect(permissionDiff(before, before, { before: STACK, after: warehouses }).changed).toBe(false);
  });

  it("speaks only of the configured platforms when data is retained", () => {
    const before = boundaryOf(baseRoster());
    const afterDoc = baseRoster();
    afterDoc.developers = afterDoc.developers.filter((d) => d.name !== "alice");
    const after = boundaryOf(afterDoc);
    const text = markdown(permissionDiff(before, after, { before: settingsOf(stackConfig(["postgres"])), after: settingsOf(stackConfig(["postgres"])) }), after);
    expect(text).toContain("Schema alice_sales: retained, never dropped: on PostgreSQL ownership moves to the provisioner (provisioner) when dev_alice is dropped (REASSIGN OWNED).");
    expect(text).not.toContain("Snowflake");
  });
});
