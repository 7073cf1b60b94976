import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseRoster } from "../../infra/roster/load";
import { formatProblem } from "../../infra/roster/problems";
import { runCommand } from "../support/commands";
import { baseRoster, diffInRepo, repoWithBase, rosterText, stackConfig, TempRepo } from "./repo";

// `npm run diff` as a CI job runs it: a child process, judged by exit code, stdout and stderr.
// npm runs scripts from the project root, so the usual call is cwd = project root with --roster into the checkout;
// the CLI also runs with cwd = the checkout and default paths. git always runs where the roster is, never in cwd.

const repos: TempRepo[] = [];
afterAll(() => repos.forEach((r) => r.cleanup()));
const track = (repo: TempRepo) => (repos.push(repo), repo);

/** A pull request onboarding dave and letting alice read the restricted finance domain. */
function onboardingRepo(): TempRepo {
  const repo = track(repoWithBase());
  const doc = baseRoster();
  doc.developers.push({ name: "dave", email: "dave@acme.example", domains: ["marketing"] });
  doc.domains[2]!.readers!.push("alice");
  return repo.writeRoster(doc).commit("onboard dave; alice reads finance");
}

function prodAccountRepo(): TempRepo {
  const repo = track(repoWithBase());
  const doc = baseRoster();
  doc.service_accounts.push({ name: "svc_backfill", purpose: "prod" });
  return repo.writeRoster(doc).commit("add a backfill runner");
}

// Each run starts node; several at once on a busy machine take a while.
describe.concurrent("diff as a child process", { timeout: 90_000 }, () => {
  it("--help explains the options, the paths and the exit codes", async () => {
    const help = await runCommand("diff", ["--help"]);
    expect(help.status).toBe(0);
    for (const text of ["Usage: npm run diff -- [options]", "--base <rev>", "--roster <path>", "--stack-config <path>", "--json", "--fail-on-prod-write", "Exit codes:", "2  invalid input", "diff exits 0 whatever it prints"])
      expect(help.stdout).toContain(text);
  });

  it("from the project root with --roster pointing into the checkout: the markdown, exit 0", async () => {
    const repo = onboardingRepo();
    const result = await runCommand("diff", ["--base", "main", "--roster", repo.path("team.yaml")]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(diffInRepo(repo, "main").markdown);
    expect(result.stdout).toContain("- 🔒 **alice** gains read on prod_finance (restricted) through dev_alice → prod_finance_reader\n");
  });

  it("with cwd = the checkout and default paths: the same change, relative names", async () => {
    const repo = onboardingRepo();
    const result = await runCommand("diff", ["--base", "main"], { cwd: repo.dir });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const expected = diffInRepo(repo, "main").markdown.replaceAll(`${repo.dir}${path.sep}`, "");
    expect(result.stdout).toBe(expected);
    expect(result.stdout).toContain("from team.yaml and Pulumi.prod.yaml at `main`, compared with this change");
  });

  it("--json prints the report object", async () => {
    const repo = onboardingRepo();
    const result = await runCommand("diff", ["--base", "main", "--roster", repo.path("team.yaml"), "--json"]);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(diffInRepo(repo, "main").report);
  });

  it("--fail-on-prod-write exits 1 when who can write to prod changes, and still prints the diff", async () => {
    const repo = prodAccountRepo();
    const gated = await runCommand("diff", ["--base", "main", "--roster", repo.path("team.yaml"), "--fail-on-prod-write"]);
    expect(gated.status).toBe(1);
    expect(gated.stdout).toContain("### 🚨 WRITE ACCESS TO PROD CHANGES");
    const plain = await runCommand("diff", ["--base", "main", "--roster", repo.path("team.yaml")]);
    expect(plain.status).toBe(0);
  });

  it("--fail-on-prod-write exits 0 when only reads and people change", async () => {
    const repo = onboardingRepo();
    const result = await runCommand("diff", ["--base", "main", "--roster", repo.path("team.yaml"), "--fail-on-prod-write"]);
    expect(result.status).toBe(0);
  });

  it("says there are no permission changes when there are none", async () => {
    const repo = track(repoWithBase());
    const result = await runCommand("diff", ["--base", "main"], { cwd: repo.dir });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      "## Permission changes against `main`\n\nNo permission changes: team.yaml and Pulumi.prod.yaml grant the same access as on `main`.\n\nDeny rules D1–D5: all hold on the new roster.\n",
    );
  });

  it("the first pull request: no team.yaml at the base, everything added, exit 0", async () => {
    const repo = track(TempRepo.create().write("README.md", "# data\n").commit("first commit").branch("feature"));
    repo.writeRoster(baseRoster()).write("Pulumi.prod.yaml", stackConfig()).commit("first roster");
    const result = await runCommand("diff", ["--base", "main"], { cwd: repo.dir });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("> `main:team.yaml` does not exist: this is the first roster, so everything below is new.");
  });

  it("exits 2 with a clear message for a revision that does not exist, and prints nothing on stdout", async () => {
    const repo = onboardingRepo();
    const result = await runCommand("diff", ["--base", "origin/main", "--roster", repo.path("team.yaml")]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("revision 'origin/main' not found; fetch it (git fetch origin main) or pass an existing ref\n");
  });

  it("exits 2 for an invalid roster at the base, each problem named by revision and path", async () => {
    const broken = `${rosterText(baseRoster())}developpers: []\n`;
    const repo = track(TempRepo.create().write("team.yaml", broken).write("Pulumi.prod.yaml", stackConfig()).commit("typo").branch("fix"));
    repo.writeRoster(baseRoster());
    const result = await runCommand("diff", ["--base", "main"], { cwd: repo.dir });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    const expected = parseRoster(broken, "main:team.yaml").problems!.map(formatProblem);
    expect(expected[0]).toMatch(/^main:team\.yaml:\d+:1: developpers: unknown key "developpers"/);
    expect(result.stderr).toBe(`${expected.join("\n")}\n`);
  });

  it("exits 2 for an invalid roster in the working tree, as plan does", async () => {
    const repo = track(repoWithBase());
    repo.write("team.yaml", rosterText(baseRoster()).replace("alice@acme.example", "alice-at-acme"));
    const result = await runCommand("diff", ["--base", "main", "--roster", repo.path("team.yaml")]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(new RegExp(`^${repo.path("team.yaml").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: developers\\[0\\]\\.email: `));
  });

  it("exits 2 without --base", async () => {
    const result = await runCommand("diff", []);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("required option '--base <rev>' not specified");
  });
});
