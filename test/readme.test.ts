import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { declaredWriters } from "../infra/audit/declared";
import { buildBoundary } from "../infra/boundary/build";
import { checkBoundary } from "../infra/boundary/rules";
import { renderDiffMarkdown } from "../infra/diff/markdown";
import { permissionDiff } from "../infra/diff/permissions";
import { diffReport } from "../infra/diff/report";
import { resourceChange } from "../infra/diff/resources";
import { declareResources } from "../infra/platforms/declare";
import { auditReport, renderAudit } from "../infra/report/audit";
import { planReport } from "../infra/report/plan";
import { renderPlan } from "../infra/report/plan-text";
import { managedResources } from "../infra/report/resources";
import { loadRoster } from "../infra/roster/load";
import type { Roster } from "../infra/roster/types";
import { runCommand } from "./support/commands";
import { REPO_ROOT, shippedSettings } from "./support/shipped";

// Output pasted in the README comes from a real run: `plan` is run as a command; the other blocks are compared with
// the same report rendered here (the CLI tests prove each command prints exactly that report).

const README = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
const roster = loadRoster(path.join(REPO_ROOT, "team.yaml"));
const boundary = buildBoundary(roster);
const settings = shippedSettings();

/** Every fenced block's lines that start with `$ <command>`: the command and what follows it, up to the next `$` line. */
function transcripts(): { command: string; output: string }[] {
  const blocks: string[][] = [];
  let open: string[] | undefined;
  for (const line of README.split("\n")) {
    if (line.startsWith("```")) {
      if (open) blocks.push(open);
      open = open ? undefined : [];
    } else open?.push(line);
  }
  const found: { command: string; output: string }[] = [];
  for (const lines of blocks) {
    lines.forEach((line, i) => {
      if (!line.startsWith("$ ")) return;
      const end = lines.findIndex((next, j) => j > i && next.startsWith("$ "));
      found.push({ command: line.slice(2), output: lines.slice(i + 1, end === -1 ? undefined : end).join("\n") });
    });
  }
  return found;
}

const transcript = (command: string): string => {
  const found = transcripts().find((t) => t.command === command);
  if (!found) throw new Error(`README has no block for \`$ ${command}\``);
  return found.output;
};

const plan = (withList: boolean) =>
  renderPlan(planReport(boundary, checkBoundary(boundary), managedResources(declareResources(boundary, settings), "Pulumi.prod.yaml", withList), "team.yaml"), { resources: withList });

/** The README's diff example: frank joins (product, sales), bob becomes a reader of the restricted finance domain. */
function readmeDiffExample(): string {
  const frank = { name: "frank", email: "frank@acme.example", domains: ["product", "sales"], snowflakeUser: "FRANK", postgresLogin: "frank" };
  const changed: Roster = {
    ...roster,
    domains: roster.domains.map((d) => (d.name === "finance" ? { ...d, readers: [...d.readers, "bob"] } : d)),
    developers: [...roster.developers, frank],
  };
  const after = buildBoundary(changed);
  const diff = permissionDiff(boundary, after, { before: settings, after: settings });
  const resources = resourceChange({ boundary, settings }, { boundary: after, settings });
  return renderDiffMarkdown(diffReport(diff, { base: "main", roster: "team.yaml", baseRoster: "main:team.yaml", stackConfig: "Pulumi.prod.yaml" }, checkBoundary(after), resources));
}

describe("the README's pasted output", () => {
  it("shows what `npm run plan` prints for the shipped roster", async () => {
    const run = await runCommand("plan");
    expect(run.status).toBe(0);
    expect(`${transcript("npm run --silent plan")}\n`).toBe(run.stdout);
  }, 60_000);

  it("shows the prod_sales lines of plan --resources as they print", () => {
    const command = "npm run --silent plan -- --resources | grep -E '^Every|(postgres|snowflake) .* prod_sales'";
    const lines = plan(true).split("\n").filter((line) => /^Every|(postgres|snowflake) .* prod_sales/.test(line));
    expect(transcript(command)).toBe(lines.join("\n"));
  });

  it("shows audit as it prints for the shipped team.yaml", () => {
    expect(transcript("npm run --silent audit")).toBe(renderAudit(auditReport(declaredWriters(boundary), checkBoundary(boundary), "team.yaml")).trimEnd());
  });

  it("shows diff as it prints for the onboarding example", () => {
    expect(transcript("npm run --silent diff -- --base main")).toBe(readmeDiffExample().trimEnd());
  });
});
