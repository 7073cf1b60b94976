import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "./support/commands";
import { REPO_ROOT } from "./support/shipped";

// Output pasted in the README comes from a real run: each block below is the command's output today.

const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

/** The text of the fenced block that starts with the line `$ <command>`, without that line. */
function pastedOutput(command: string): string {
  const start = readme.indexOf(`\n$ ${command}\n`);
  if (start === -1) throw new Error(`README.md has no block starting with "$ ${command}"`);
  const body = readme.slice(start + command.length + 4);
  return body.slice(0, body.indexOf("```"));
}

describe("README.md", () => {
  it("shows what `npm run plan` prints for the shipped roster", async () => {
    const run = await runCommand("plan");
    expect(run.status).toBe(0);
    expect(pastedOutput("npm run --silent plan")).toBe(run.stdout);
  }, 60_000);
});
