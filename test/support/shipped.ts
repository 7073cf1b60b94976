import { readFileSync } from "node:fs";
import * as path from "node:path";
import { buildBoundary } from "../../infra/boundary/build";
import type { Boundary } from "../../infra/boundary/model";
import { loadRoster } from "../../infra/roster/load";
import { loadStackSettings, type StackSettings } from "../../infra/stack";

// The roster and stack that ship in the repository, as the program reads them.

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const shippedSettings = (): StackSettings => loadStackSettings(path.join(REPO_ROOT, "Pulumi.prod.yaml"));
export const shippedBoundary = (): Boundary => buildBoundary(loadRoster(path.join(REPO_ROOT, "team.yaml")));

/** The non-blank lines of the README's fenced block right after `<!-- marker -->`, whatever its fence's language. */
export function readmeBlock(marker: string): string[] {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const found = new RegExp(`<!-- ${marker} -->\n\`\`\`[a-z]*\n`).exec(readme);
  if (found === null) throw new Error(`README.md has no ${marker} block`);
  const body = readme.slice(found.index + found[0].length);
  return body.slice(0, body.indexOf("\n```")).split("\n").filter((line) => line.trim() !== "");
}
