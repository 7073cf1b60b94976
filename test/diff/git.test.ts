import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  checkRevision, FileAtRevisionError, labelAt, readAtRevision, RevisionError, rosterAtRevision, stackSettingsAtRevision,
} from "../../infra/diff/git";
import { formatProblem } from "../../infra/roster/problems";
import { baseRoster, diffInRepo, repoWithBase, rosterText, stackConfig, TempRepo } from "./repo";

// The diff end to end through the modules, on small git repositories: one pull request per group.

const repos: TempRepo[] = [];
const track = (repo: TempRepo) => (repos.push(repo), repo);
afterEach(() => {
  for (const repo of repos.splice(0)) repo.cleanup();
});

describe("reading the base revision with git", () => {
  it("reads team.yaml and Pulumi.prod.yaml at the revision, not from the working tree", () => {
    const repo = track(repoWithBase());
    const changed = baseRoster();
    changed.developers.pop();
    repo.writeRoster(changed);
    expect(readAtRevision("main", repo.path("team.yaml"))).toBe(rosterText(baseRoster()));
    expect(rosterAtRevision("main", repo.path("team.yaml"))?.roster?.developers.map((d) => d.name)).toEqual(["alice", "carol"]);
    expect(stackSettingsAtRevision("main", repo.path("Pulumi.prod.yaml"))?.platforms).toEqual(["postgres", "snowflake"]);
  });

  it("gives undefined when the revision exists but has no team.yaml yet", () => {
    const repo = track(TempRepo.create().write("README.md", "# data\n").commit("first commit").branch("feature"));
    expect(rosterAtRevision("main", repo.path("team.yaml"))).toBeUndefined();
    expect(stackSettingsAtRevision("main", repo.path("Pulumi.prod.yaml"))).toBeUndefined();
  });

  it("fails clearly when the revision does not exist, with how to fetch it", () => {
    const repo = track(repoWithBase());
    expect(() => rosterAtRevision("xyz", repo.path("team.yaml"))).toThrow(
      new RevisionError("revision 'xyz' not found; fetch it (git fetch origin main) or pass an existing ref"),
    );
    expect(() => checkRevision("origin/release", repo.dir)).toThrow(
      "revision 'origin/release' not found; fetch it (git fetch origin release) or pass an existing ref",
    );
  });

  it("refuses a revision git would read as an option", () => {
    const repo = track(repoWithBase());
    expect(() => checkRevision("--output=/tmp/x", repo.dir)).toThrow("revision '--output=/tmp/x' is not a git revision");
  });

  it("fails clearly outside a git repository", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "warehouse-access-nogit-"));
    try {
      expect(() => checkRevision("main", dir)).toThrow(`${dir} is not inside a git repository`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("labels a file at the revision as git does, from a subdirectory too", () => {
    const repo = track(TempRepo.create().writeRoster(baseRoster(), "warehouse/team.yaml").commit("roster in a subdirectory"));
    expect(labelAt("main", repo.path("warehouse/team.yaml"))).toBe("main:warehouse/team.yaml");
    expect(rosterAtRevision("main", repo.path("warehouse/team.yaml"))?.roster).toBeDefined();
  });

  it("reports an invalid roster at the revision with the revision in each problem's file", () => {
    const broken = rosterText(baseRoster()).replace("email: alice@acme.example", "email: alice-at-acme");
    const repo = track(TempRepo.create().write("team.yaml", broken).commit("broken roster").branch("feature").writeRoster(baseRoster()));
    const result = rosterAtRevision("main", repo.path("team.yaml"));
    const lines = result?.problems?.map(formatProblem) ?? [];
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^main:team\.yaml:\d+:\d+: developers\[0\]\.email: /);
  });

  it("reports a stack configuration at the revision that is not YAML, or not valid, with the revision in its name", () => {
    const repo = track(repoWithBase(baseRoster(), "config: [unclosed\n"));
    expect(() => stackSettingsAtRevision("main", repo.path("Pulumi.prod.yaml"))).toThrow(FileAtRevisionError);
    expect(() => stackSettingsAtRevision("main", repo.path("Pulumi.prod.yaml"))).toThrow(/^main:Pulumi\.prod\.yaml: is not valid YAML: /);
    const invalid = track(repoWithBase(baseRoster(), "config:\n  warehouse-access:platforms: [oracle]\n  warehouse-access:database: analytics\n"));
    expect(() => stackSettingsAtRevision("main", invalid.path("Pulumi.prod.yaml"))).toThrow(/^main:Pulumi\.prod\.yaml: warehouse-access:platforms\.0: /);
  });
});

describe("diff between a revision and the working tree", () => {
  it("a developer onboarded and a reader added to a restricted domain", () => {
    const repo = track(repoWithBase());
    const doc = baseRoster();
    doc.developers.push({ name: "dave", email: "dave@acme.example", domains: ["marketing"] });
    doc.domains[2]!.readers!.push("alice");
    repo.writeRoster(doc).commit("onboard dave; alice reads finance");
    const { report, markdown } = diffInRepo(repo, "main");
    expect(report.prodWrite).toEqual([]);
    expect(markdown).toContain("- 🔒 **alice** gains read on prod_finance (restricted) through dev_alice → prod_finance_reader\n");
    expect(markdown).toContain("- **dave** gains read on prod_marketing, prod_sales through dev_dave → prod_reader\n");
    expect(markdown).toContain("- ➕ Developer **dave** (dave@acme.example) joins: role dev_dave, owner of new schema dave_marketing.\n");
    expect(markdown).toContain("**Summary:** no prod write change · 3 reads gained (1 on a restricted schema) · 1 developer added · 1 schema created.\n");
  });

  it("a developer removed: their schemas' data is retained", () => {
    const repo = track(repoWithBase());
    const doc = baseRoster();
    doc.developers = doc.developers.filter((d) => d.name !== "alice");
    repo.writeRoster(doc);
    const { report, markdown } = diffInRepo(repo, "main");
    expect(report.summary).toMatchObject({ developersRemoved: 1, schemasRetained: 1, readsLost: 2, prodWriteChanges: 0 });
    expect(markdown).toContain("- ➖ Developer **alice** (alice@acme.example) leaves: role dev_alice and the logins are dropped. Schema alice_sales: retained, never dropped:");
  });

  it("a domain removed: its protected prod schema stops pulumi up", () => {
    const repo = track(repoWithBase());
    const doc = baseRoster();
    doc.domains = doc.domains.filter((d) => d.name !== "marketing");
    repo.writeRoster(doc);
    const { report, markdown } = diffInRepo(repo, "main");
    expect(report.schemas).toEqual([expect.objectContaining({ schema: "prod_marketing", change: "removed", fate: "protected" })]);
    expect(markdown).toContain("It is protected, so `pulumi up` stops with an error at this schema until someone unprotects it on purpose");
  });

  it("a prod service account added: flagged loudly as a change in who writes to prod", () => {
    const repo = track(repoWithBase());
    const doc = baseRoster();
    doc.service_accounts.push({ name: "svc_backfill", purpose: "prod" });
    repo.writeRoster(doc);
    const { report, markdown } = diffInRepo(repo, "main");
    expect(report.prodWrite).toHaveLength(3);
    expect(markdown.split("\n").slice(0, 7)).toEqual([
      "## Permission changes against `main`",
      "",
      "### 🚨 WRITE ACCESS TO PROD CHANGES",
      "",
      "> **Only `purpose: prod` service accounts may write to prod schemas. Have whoever owns production approve each line.**",
      "",
      "- 🚨 **svc_backfill** (prod service account) **gains write** on prod_finance (restricted), prod_marketing, prod_sales through prod_writer",
    ]);
  });

  it("the first pull request: the base has no team.yaml, so everything is added", () => {
    const repo = track(TempRepo.create().write("README.md", "# data\n").commit("first commit").branch("feature"));
    repo.writeRoster(baseRoster()).write("Pulumi.prod.yaml", stackConfig()).commit("first roster");
    const { report, markdown } = diffInRepo(repo, "main");
    expect(report.firstRoster).toBe(true);
    expect(report.summary).toMatchObject({ developersAdded: 2, serviceAccountsAdded: 2, prodWriteChanges: 3 });
    expect(markdown).toContain("> `main:team.yaml` does not exist: this is the first roster, so everything below is new.");
  });

  it("no change: the same access in other words", () => {
    const repo = track(repoWithBase());
    const doc = baseRoster();
    doc.developers.reverse();
    doc.domains[0]!.description = "Opportunities and bookings";
    repo.writeRoster(doc).commit("reword");
    const { report, markdown } = diffInRepo(repo, "main");
    expect(report.changed).toBe(false);
    expect(markdown).toContain("No permission changes: ");
  });

  it("includes uncommitted changes: the working tree is what a reviewer is shown", () => {
    const repo = track(repoWithBase());
    const doc = baseRoster();
    doc.developers.push({ name: "erin", email: "erin@acme.example", domains: ["sales"] });
    repo.writeRoster(doc);
    expect(diffInRepo(repo, "main").report.summary.developersAdded).toBe(1);
    expect(diffInRepo(repo, "HEAD").report.summary.developersAdded).toBe(1);
  });

  it("a base without Pulumi.prod.yaml: the platforms count as added", () => {
    const repo = track(TempRepo.create().writeRoster(baseRoster()).commit("roster only").branch("feature"));
    repo.write("Pulumi.prod.yaml", stackConfig(["postgres"]));
    const { report } = diffInRepo(repo, "main");
    expect(report.settings).toEqual([
      { setting: "platforms", added: ["postgres"], removed: [] },
      { setting: "database", before: null, after: "analytics" },
    ]);
    expect(report.prodWrite).toEqual([]);
  });
});
