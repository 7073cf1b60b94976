import { spawn, type ChildProcessByStdio } from "node:child_process";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { REPO_ROOT } from "./shipped";

// The commands as a CI job runs them (`npm run <script>` is `node -r ./scripts/register.js infra/cli/<script>.ts`):
// a child process, judged by exit code, stdout and stderr.

/** The commands in infra/cli, by their npm script names. */
export type Script = "plan" | "audit" | "diff" | "sandbox" | "ci-schema" | "cleanup-ci" | "dbt-profiles" | "dbt-selectors" | "dbt-package" | "env";

export interface CommandOptions {
  /** Where the command runs; the project root unless told, as npm runs scripts. */
  cwd?: string;
  /** Variables added to (or overriding) this process's environment. */
  env?: NodeJS.ProcessEnv;
}

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Starts infra/cli/<script>.ts with stdout and stderr piped, for a test that reads them while the command runs. */
export function startCommand(script: Script, args: readonly string[], options: CommandOptions = {}): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, ["-r", path.join(REPO_ROOT, "scripts/register.js"), path.join(REPO_ROOT, "infra/cli", `${script}.ts`), ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs infra/cli/<script>.ts to the end: its exit status and everything it printed. */
export function runCommand(script: Script, args: readonly string[] = [], options: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = startCommand(script, args, options);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}
