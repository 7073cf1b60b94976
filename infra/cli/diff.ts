import { existsSync } from "node:fs";
import * as path from "node:path";
import { buildBoundary } from "../boundary/build";
import { checkBoundary } from "../boundary/rules";
import { FileAtRevisionError, labelAt, RevisionError, rosterAtRevision, stackSettingsAtRevision } from "../diff/git";
import { renderDiffMarkdown } from "../diff/markdown";
import { permissionDiff } from "../diff/permissions";
import { diffReport } from "../diff/report";
import { resourceChange } from "../diff/resources";
import { formatProblem } from "../roster/problems";
import type { Roster } from "../roster/types";
import { StackSettingsError, type StackSettings } from "../stack";
import { ExitCode, exitCodeFor, printReport, readRoster, readStackSettings, rosterCommand, type CommonOptions } from "./command";

interface DiffOptions extends CommonOptions {
  base: string;
  stackConfig?: string;
  failOnProdWrite?: boolean;
}

const DIFF_HELP = `
A permission change is not a failure: diff exits 0 whatever it prints, unless
  --fail-on-prod-write  is given and the change alters who can write to prod (exit 1)
  --base                names no commit, or a roster is invalid at either side (exit 2)

Paths: the working-tree files are read where --roster and --stack-config point (the stack
configuration defaults to Pulumi.prod.yaml beside the roster); the same files at --base are
read with git from the repository that holds them, so diff runs from any directory.`;

/** An invalid-input message on stderr, and exit code 2. */
function invalid(lines: readonly string[]): undefined {
  for (const line of lines) process.stderr.write(`${line}\n`);
  process.exitCode = ExitCode.invalidInput;
  return undefined;
}

/** Both files at the base revision, or undefined after printing every problem (exit code 2). */
function readBase(base: string, rosterFile: string, stackFile: string): { roster?: Roster; settings?: StackSettings } | undefined {
  try {
    const roster = rosterAtRevision(base, rosterFile);
    const problems = roster?.problems?.map(formatProblem) ?? [];
    let settings: StackSettings | undefined;
    try {
      settings = stackSettingsAtRevision(base, stackFile);
    } catch (error) {
      if (!(error instanceof StackSettingsError || error instanceof FileAtRevisionError)) throw error;
      problems.push(error.message);
    }
    if (problems.length > 0) return invalid(problems);
    return { ...(roster?.roster ? { roster: roster.roster } : {}), ...(settings ? { settings } : {}) };
  } catch (error) {
    if (!(error instanceof RevisionError)) throw error;
    return invalid([error.message]);
  }
}

rosterCommand("diff", "Show what a change to team.yaml (and Pulumi.prod.yaml) does to who can do what, compared with a git revision: changes to who can write to prod first, then read access on prod schemas, then people, service accounts, schemas and their data, then a one-line summary. Markdown for a pull-request comment; --json for machines.")
  .requiredOption("--base <rev>", "git revision to compare with, e.g. origin/main")
  .option("--stack-config <path>", "Pulumi stack configuration naming the platforms (default: Pulumi.prod.yaml beside the roster)")
  .option("--fail-on-prod-write", "exit 1 when the change alters who can write to prod schemas")
  .addHelpText("after", DIFF_HELP)
  .action((options: DiffOptions) => {
    const stackConfig = options.stackConfig ?? path.join(path.dirname(options.roster), "Pulumi.prod.yaml");
    const roster = readRoster(options.roster);
    // Invalid YAML or a missing file is reported (exit code 2) by readStackSettings itself.
    const settings = readStackSettings(stackConfig);
    // The base is read even when the working tree is invalid, so one run shows every problem.
    const base = existsSync(path.dirname(path.resolve(options.roster))) ? readBase(options.base, options.roster, stackConfig) : undefined;
    if (roster === undefined || settings === undefined || base === undefined) return;

    const after = buildBoundary(roster);
    const violations = checkBoundary(after);
    const before = base.roster && buildBoundary(base.roster);
    const diff = permissionDiff(before, after, { before: base.settings, after: settings });
    const resources = resourceChange({ boundary: before, settings: base.settings }, { boundary: after, settings });
    const compared = { base: options.base, roster: options.roster, baseRoster: labelAt(options.base, options.roster), stackConfig };
    printReport(options, diffReport(diff, compared, violations, resources), renderDiffMarkdown);
    const prodWriteGate = options.failOnProdWrite === true && diff.prodWrite.length > 0;
    process.exitCode = prodWriteGate ? ExitCode.violation : exitCodeFor(violations);
  })
  .parse();
