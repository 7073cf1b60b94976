import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/shipped";

// The layout rule: roster → boundary → resources as data → Pulumi. Only infra/pulumi loads a Pulumi package; the
// resource kinds borrow the provider SDKs' input types, which type-only imports erase before anything runs.

const INFRA = path.join(REPO_ROOT, "infra");
const THIN_LAYER = path.join(INFRA, "pulumi");
const KINDS = path.join(INFRA, "platforms", "kinds.ts");

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []);

/** Every module a file names, with whether the import is type-only (and so gone at run time). */
export function importsOf(text: string): { module: string; typeOnly: boolean }[] {
  const found: { module: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?\sfrom\s+["']([^"']+)["']/gm)) found.push({ module: m[3]!, typeOnly: m[2] !== undefined });
  for (const m of text.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) found.push({ module: m[1]!, typeOnly: false });
  for (const m of text.matchAll(/\b(?:require|import)\(\s*["']([^"']+)["']\s*\)/g)) found.push({ module: m[1]!, typeOnly: false });
  return found;
}

const relative = (file: string) => path.relative(REPO_ROOT, file);

describe("which modules may use Pulumi", () => {
  const outside = sources(INFRA).filter((f) => !f.startsWith(`${THIN_LAYER}${path.sep}`));

  it("finds the imports it is looking for", () => {
    expect(importsOf('import * as pulumi from "@pulumi/pulumi";\nimport type { X } from "@pulumi/snowflake";\nconst p = require("@pulumi/postgresql");'))
      .toEqual([{ module: "@pulumi/pulumi", typeOnly: false }, { module: "@pulumi/snowflake", typeOnly: true }, { module: "@pulumi/postgresql", typeOnly: false }]);
    expect(outside.length).toBeGreaterThan(40);
    expect(outside.map(relative)).toContain("infra/platforms/postgres/index.ts");
  });

  it("loads no Pulumi package outside infra/pulumi", () => {
    const offending = outside.flatMap((f) => importsOf(readFileSync(f, "utf8"))
      .filter((i) => i.module.startsWith("@pulumi/") && !(i.typeOnly && f === KINDS))
      .map((i) => `${relative(f)} imports ${i.module}${i.typeOnly ? " (types)" : ""}`));
    expect(offending).toEqual([]);
  });

  it("borrows the provider SDKs' input types in one place, and never @pulumi/pulumi's", () => {
    expect(importsOf(readFileSync(KINDS, "utf8")).filter((i) => i.module.startsWith("@pulumi/")))
      .toEqual([{ module: "@pulumi/postgresql", typeOnly: true }, { module: "@pulumi/snowflake", typeOnly: true }]);
  });

  it("keeps the entry point and the thin layer the only way the program reaches the SDK", () => {
    expect(importsOf(readFileSync(path.join(INFRA, "index.ts"), "utf8")).map((i) => i.module)).toEqual(["./pulumi/program"]);
  });
});
