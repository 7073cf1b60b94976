import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { buildBoundary } from "../../infra/boundary/build";
import { checkBoundary } from "../../infra/boundary/rules";
import { labelAt, rosterAtRevision, stackSettingsAtRevision } from "../../infra/diff/git";
import { renderDiffMarkdown } from "../../infra/diff/markdown";
import type { DiffReport } from "../../infra/diff/model";
import { permissionDiff } from "../../infra/diff/permissions";
import { diffReport } from "../../infra/diff/report";
import { resourceChange } from "../../infra/diff/resources";
import { loadRoster } from "../../infra/roster/load";
import { formatProblem } from "../../infra/roster/problems";
import { loadStackSettings } from "../../infra/stack";

// Small throwaway git repositories holding a team.yaml and a Pulumi.prod.yaml, for the diff's tests.

export interface RosterDoc {
  domains: { name: string; restricted?: boolean; readers?: string[]; description?: string }[];
  developers: { name: string; email: string; domains?: string[]; postgres_login?: string; snowflake_user?: string }[];
  service_accounts: { name: string; purpose: "prod" | "ci"; rsa_public_key?: string }[];
}

/** Three domains (one restricted, read by carol), two developers, a prod and a CI account. */
export const baseRoster = (): RosterDoc => ({
  domains: [
    { name: "sales" },
    { name: "marketing" },
    { name: "finance", restricted: true, readers: ["carol"] },
  ],
  developers: [
    { name: "alice", email: "alice@acme.example", domains: ["sales"] },
    { name: "carol", email: "carol@acme.example", domains: ["finance", "sales"] },
  ],
  service_accounts: [
    { name: "svc_prod", purpose: "prod" },
    { name: "svc_ci", purpose: "ci" },
  ],
});

export const stackConfig = (platforms: string[] = ["postgres", "snowflake"], database = "analytics"): string =>
  stringify({
    config: {
      "warehouse-access:platforms": platforms,
      "warehouse-access:database": database,
      ...(platforms.includes("snowflake")
        ? { "warehouse-access:snowflake": { warehouses: { developers: "DEV_WH", ci: "CI_WH", prod: "PROD_WH" }, adminRole: "SYSADMIN" } }
        : {}),
      "postgresql:host": "localhost",
      ...(platforms.includes("postgres") ? { "postgresql:database": database, "postgresql:username": "provisioner" } : {}),
    },
  });

export const rosterText = (doc: RosterDoc): string => stringify(doc);

/** A git repository in a temp directory; git is run without a shell, with a fixed identity. */
export class TempRepo {
  private constructor(readonly dir: string) {}

  static create(prefix = "warehouse-access-diff-"): TempRepo {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    chmodSync(dir, 0o755);
    const repo = new TempRepo(dir);
    repo.git("init", "--quiet", "--initial-branch=main");
    return repo;
  }

  git(...args: string[]): string {
    return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@acme.example", "-c", "commit.gpgsign=false", ...args], {
      cwd: this.dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  path(file: string): string {
    return path.join(this.dir, file);
  }

  write(file: string, text: string): this {
    mkdirSync(path.dirname(this.path(file)), { recursive: true });
    writeFileSync(this.path(file), text);
    return this;
  }

  writeRoster(doc: RosterDoc, file = "team.yaml"): this {
    return this.write(file, rosterText(doc));
  }

  remove(file: string): this {
    rmSync(this.path(file), { force: true });
    return this;
  }

  commit(message: string): this {
    this.git("add", "--all");
    this.git("commit", "--quiet", "--allow-empty", "-m", message);
    return this;
  }

  branch(name: string): this {
    this.git("checkout", "--quiet", "-b", name);
    return this;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A repository whose `main` holds the base roster and stack, checked out on a feature branch. */
export function repoWithBase(doc: RosterDoc = baseRoster(), stack = stackConfig()): TempRepo {
  return TempRepo.create().writeRoster(doc).write("Pulumi.prod.yaml", stack).commit("base roster").branch("feature");
}

/** The diff as the CLI computes it, in-process: working tree against `base`, both files read where the CLI reads them. */
export function diffInRepo(repo: TempRepo, base: string, roster = "team.yaml"): { report: DiffReport; markdown: string } {
  const rosterFile = repo.path(roster);
  const stackFile = path.join(path.dirname(rosterFile), "Pulumi.prod.yaml");
  const before = rosterAtRevision(base, rosterFile);
  if (before?.problems) throw new Error(before.problems.map(formatProblem).join("\n"));
  const after = buildBoundary(loadRoster(rosterFile));
  const settings = { before: stackSettingsAtRevision(base, stackFile), after: loadStackSettings(stackFile) };
  const was = before && buildBoundary(before.roster);
  const diff = permissionDiff(was, after, settings);
  const resources = resourceChange({ boundary: was, settings: settings.before }, { boundary: after, settings: settings.after });
  const report = diffReport(diff, { base, roster: rosterFile, baseRoster: labelAt(base, rosterFile), stackConfig: stackFile }, checkBoundary(after), resources);
  return { report, markdown: renderDiffMarkdown(report) };
}
