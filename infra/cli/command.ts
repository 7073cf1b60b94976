import { Command } from "commander";
import { YAMLError } from "yaml";
import type { Violation } from "../boundary/rules";
import { loadRoster } from "../roster/load";
import { formatProblem, RosterError } from "../roster/problems";
import type { Roster } from "../roster/types";
import { loadStackSettings, StackSettingsError, type StackSettings } from "../stack";

// What every command shares: --roster, --json, --help, and exit codes a CI job can gate on.

export const ExitCode = { ok: 0, violation: 1, invalidInput: 2 } as const;

export interface CommonOptions {
  roster: string;
  json?: boolean;
}

const EXIT_CODES_HELP = `
Exit codes:
  0  ok: the roster is valid and deny rules D1–D5 hold
  1  a deny rule is violated (each violation is printed)
  2  invalid input: a bad option, or roster problems on stderr as FILE:LINE:COL: PATH: MESSAGE`;

/** A command named as people run it (`npm run cleanup-ci --`): --help with `help` after the options, exit code 2 for a bad option. */
export function scriptCommand(script: string, description: string, help: string): Command {
  return new Command(`npm run ${script} --`)
    .description(description)
    .helpOption("-h, --help", "show this help")
    .addHelpText("after", help)
    .showHelpAfterError("(run with --help for usage)")
    // Commander exits 1 on a bad option, which a CI job would read as a rule violation or a failed drop.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.invalidInput));
}

/** A command named as people run it (`npm run plan --`), with the common options. */
export function rosterCommand(script: string, description: string): Command {
  return scriptCommand(script, description, EXIT_CODES_HELP)
    .option("--roster <path>", "team roster to read", "team.yaml")
    .option("--json", "print the report as JSON instead of text");
}

/** For `parseAsync().catch(...)`: prints an error no action handled as `script: message` and sets exit code 2. */
export function printFailure(script: string): (error: unknown) => void {
  return (error) => {
    process.stderr.write(`${script}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = ExitCode.invalidInput;
  };
}

/** The validated roster, or undefined after printing every problem to stderr and setting exit code 2. */
export function readRoster(path: string): Roster | undefined {
  try {
    return loadRoster(path);
  } catch (error) {
    if (!(error instanceof RosterError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    process.exitCode = ExitCode.invalidInput;
    return undefined;
  }
}

/** The stack's settings, or undefined after printing why they are unusable and setting exit code 2. */
export function readStackSettings(path: string): StackSettings | undefined {
  try {
    return loadStackSettings(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const unreadable = error instanceof YAMLError ? `${path}: is not valid YAML: ${error.message.split("\n")[0]}` : undefined;
    if (!(error instanceof StackSettingsError) && code !== "ENOENT" && unreadable === undefined) throw error;
    process.stderr.write(code === "ENOENT" ? `${path}: the stack configuration does not exist. Pass --stack-config PATH\n` : `${unreadable ?? (error as Error).message}\n`);
    process.exitCode = ExitCode.invalidInput;
    return undefined;
  }
}

export const exitCodeFor = (violations: readonly Violation[]): number => (violations.length === 0 ? ExitCode.ok : ExitCode.violation);

/** The report as JSON for machines, or rendered text for people. */
export function printReport<T>(options: CommonOptions, report: T, render: (report: T) => string): void {
  // A reader that stops early (`| head`) is not a failure of the command.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
}
