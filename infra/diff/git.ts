import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { parseRoster, type RosterResult } from "../roster/load";
import { stackSettingsFromConfig, type StackSettings } from "../stack";

// The base side of a diff, read from git at a revision. The only I/O of the diff: everything else is pure.

/** The revision or the repository cannot be used: nothing to compare with. */
export class RevisionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RevisionError";
  }
}

/** A file at the revision that cannot be read as what it should be (e.g. YAML that does not parse). */
export class FileAtRevisionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FileAtRevisionError";
  }
}

interface GitResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs git in `dir` without a shell, so a revision can never be read as shell syntax. */
function git(dir: string, args: readonly string[]): GitResult {
  try {
    const stdout = execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, stdout, stderr: "" };
  } catch (error) {
    const failed = error as NodeJS.ErrnoException & { status?: number | null; stdout?: string; stderr?: string };
    if (failed.code === "ENOENT") throw new RevisionError("git is not installed or not on PATH; diff reads the base revision with git");
    return { ok: false, stdout: String(failed.stdout ?? ""), stderr: String(failed.stderr ?? "") };
  }
}

const firstLine = (text: string) => text.trim().split("\n")[0] ?? "";

/** How to get a missing revision: `origin/main` → `git fetch origin main`. */
function fetchHint(rev: string): string {
  const remote = /^([A-Za-z0-9._-]+)\/(.+)$/.exec(rev);
  return remote ? `git fetch ${remote[1]} ${remote[2]}` : "git fetch origin main";
}

/** Checks that `dir` is in a git repository and `rev` names a commit there. */
export function checkRevision(rev: string, dir: string): void {
  // A leading dash would be read as an option by git.
  if (rev === "" || rev.startsWith("-")) throw new RevisionError(`revision '${rev}' is not a git revision; pass a branch, tag or commit, e.g. --base origin/main`);
  const repo = git(dir, ["rev-parse", "--show-toplevel"]);
  if (!repo.ok)
    throw new RevisionError(`${dir} is not inside a git repository (${firstLine(repo.stderr)}); run diff in a clone, or point --roster into one`);
  if (!git(dir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`]).ok)
    throw new RevisionError(`revision '${rev}' not found; fetch it (${fetchHint(rev)}) or pass an existing ref`);
}

/** A working-tree file's name at `rev`, as git writes it (`main:team.yaml`): the file part of every message about it. */
export function labelAt(rev: string, file: string): string {
  const dir = path.dirname(path.resolve(file));
  const prefix = git(dir, ["rev-parse", "--show-prefix"]);
  return `${rev}:${prefix.ok ? prefix.stdout.trim() : ""}${path.basename(file)}`;
}

/** The text of `file` (a working-tree path) at `rev`, or undefined when the revision has no such file. */
export function readAtRevision(rev: string, file: string): string | undefined {
  const dir = path.dirname(path.resolve(file));
  checkRevision(rev, dir);
  // `./name` is relative to -C's directory, so this works from any cwd and in any subdirectory of the repository.
  const spec = `${rev}:./${path.basename(file)}`;
  if (!git(dir, ["cat-file", "-e", spec]).ok) return undefined;
  const shown = git(dir, ["show", spec]);
  if (!shown.ok) throw new RevisionError(`cannot read ${labelAt(rev, file)}: ${firstLine(shown.stderr)}`);
  return shown.stdout;
}

/** The roster at `rev`, validated; undefined when the revision has no roster yet (the first pull request). */
export function rosterAtRevision(rev: string, file: string): RosterResult | undefined {
  const text = readAtRevision(rev, file);
  return text === undefined ? undefined : parseRoster(text, labelAt(rev, file));
}

/** The stack settings at `rev`; undefined when the revision has no stack configuration. Throws StackSettingsError. */
export function stackSettingsAtRevision(rev: string, file: string): StackSettings | undefined {
  const text = readAtRevision(rev, file);
  if (text === undefined) return undefined;
  const label = labelAt(rev, file);
  let document: { config?: Record<string, unknown> } | null;
  try {
    document = parseYaml(text) as { config?: Record<string, unknown> } | null;
  } catch (error) {
    throw new FileAtRevisionError(`${label}: is not valid YAML: ${firstLine((error as Error).message)}`);
  }
  // The whole config, as loadStackSettings reads it: our keys are checked against the provider keys they depend on.
  return stackSettingsFromConfig(document?.config ?? {}, label);
}
