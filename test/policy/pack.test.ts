import { readFileSync } from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { policies, prodWriterHeldOnlyByProdServiceAccounts, prodWriteOnlyByProdWriter, serviceUsersKeyPairOnlyPolicy } from "../../policy/policies";
import { REPO_ROOT } from "../support/shipped";
import { resourceArgs, stackArgs, type Report } from "./harness";

// How the pack is put together: what it loads at run time, how it is pinned, and how it reads preview values.

const PACK = path.join(REPO_ROOT, "policy");
const read = (file: string): string => readFileSync(file, "utf8");

/** The modules a file requires once compiled: type-only imports are erased, exactly as ts-node erases them. */
function requiresOf(file: string): string[] {
  const { outputText } = ts.transpileModule(read(file), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  return [...outputText.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
}

/** Every package (bare specifier) the pack loads at run time from `entry`, following its relative imports. */
function packagesLoadedFrom(entry: string): { packages: Set<string>; files: Set<string> } {
  const packages = new Set<string>();
  const files = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of requiresOf(file)) {
      if (spec.startsWith(".")) queue.push(`${path.resolve(path.dirname(file), spec)}.ts`);
      else if (!spec.startsWith("node:")) packages.add(spec);
    }
  }
  return { packages, files };
}

describe("the pack's code", () => {
  it("loads no package but @pulumi/policy, so the program's copy of @pulumi/pulumi never enters the pack's process", () => {
    const { packages, files } = packagesLoadedFrom(path.join(PACK, "index.ts"));
    expect([...packages]).toEqual(["@pulumi/policy"]);
    // The shared code it reuses: the naming contract and the platform interpreters, all pure.
    expect([...files].map((f) => path.relative(REPO_ROOT, f)).filter((f) => f.startsWith("infra")).sort()).toEqual([
      "infra/platforms/inputs.ts",
      "infra/platforms/postgres/interpret.ts",
      "infra/platforms/postgres/privileges.ts",
      "infra/platforms/snowflake/ci-schemas.ts",
      "infra/platforms/snowflake/identifiers.ts",
      "infra/platforms/snowflake/interpret.ts",
      "infra/platforms/snowflake/privileges.ts",
      "infra/roster/naming.ts",
    ]);
  });

  it("starts nothing when the policies are imported: policies.ts loads no package at all", () => {
    expect([...packagesLoadedFrom(path.join(PACK, "policies.ts")).packages]).toEqual([]);
  });

  it("has an index.ts that only constructs the pack", () => {
    const statements = read(path.join(PACK, "index.ts")).split("\n").filter((line) => line.trim() !== "" && !line.startsWith("//") && !line.startsWith("import "));
    expect(statements).toEqual(['new PolicyPack("warehouse-access", { policies });']);
  });

  it("makes every policy mandatory, names each once, and says which deny rule it enforces", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of policies) {
      expect(p.enforcementLevel).toBe("mandatory");
      expect(p.description).toMatch(/^D[1-7]: /);
    }
    expect(new Set(policies.map((p) => p.description.slice(0, 2)))).toEqual(new Set(["D1", "D2", "D3", "D5", "D6", "D7"]));
  });
});

describe("the pack's package", () => {
  const root = JSON.parse(read(path.join(REPO_ROOT, "package.json"))) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const pack = JSON.parse(read(path.join(PACK, "package.json"))) as { version: string; dependencies: Record<string, string> };

  it("is a Node.js policy pack with a version, which @pulumi/policy requires", () => {
    expect(parseYaml(read(path.join(PACK, "PulumiPolicy.yaml")))).toMatchObject({ runtime: "nodejs" });
    expect(pack.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("pins @pulumi/*, typescript and ts-node exactly as the root does", () => {
    expect(pack.dependencies["@pulumi/pulumi"]).toBe(root.dependencies["@pulumi/pulumi"]);
    for (const name of ["@pulumi/policy", "typescript", "ts-node", "@types/node"]) expect(pack.dependencies[name]).toBe(root.devDependencies[name]);
  });
});

describe("values a preview cannot know yet", () => {
  // @pulumi/policy hands policies a proxy that throws on reading an unknown value.
  const { unknownCheckingProxy } = require("@pulumi/policy/proxy") as { unknownCheckingProxy: <T extends object>(o: T) => T };
  const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

  it("are left out of a resource, and the rest is still judged", async () => {
    const reports: string[] = [];
    const args = resourceArgs({
      type: "postgresql:index/grant:Grant",
      name: "alice-insert",
      props: unknownCheckingProxy({ database: UNKNOWN, schema: "prod_sales", objectType: "table", objects: [], role: "dev_alice", privileges: ["INSERT"] }),
    });
    await [prodWriteOnlyByProdWriter.validateResource!].flat()[0]!(args, (m) => reports.push(m));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain("it grants INSERT on all tables in schema prod_sales to dev_alice");
  });

  it("do not make a stack policy unreadable", async () => {
    const reports: Report[] = [];
    const args = stackArgs([
      { type: "snowflake:index/grantAccountRole:GrantAccountRole", name: "alice/prod_writer", props: unknownCheckingProxy({ roleName: '"PROD_WRITER"', userName: '"ALICE"' }) },
      { type: "snowflake:index/grantAccountRole:GrantAccountRole", name: "later/prod_writer", props: unknownCheckingProxy({ roleName: '"PROD_WRITER"', userName: UNKNOWN }) },
    ]);
    await prodWriterHeldOnlyByProdServiceAccounts.validateStack(args, (message) => reports.push({ policy: "", message }));
    expect(reports.map((r) => r.message)).toEqual([expect.stringContaining("user ALICE holds PROD_WRITER (ALICE → PROD_WRITER)")]);
  });

  it("do not pass for a service user without an authentication policy before pulumi up can tell", async () => {
    const reports: string[] = [];
    const user = { type: "snowflake:index/serviceUser:ServiceUser", name: "svc_prod", props: { name: "SVC_PROD" } };
    const attachment = (userName: string) => ({
      type: "snowflake:index/userAuthenticationPolicyAttachment:UserAuthenticationPolicyAttachment",
      name: "svc_prod",
      props: unknownCheckingProxy({ userName, authenticationPolicyName: '"ANALYTICS"."GOVERNANCE"."SERVICE_KEYPAIR_ONLY"' }),
    });
    await serviceUsersKeyPairOnlyPolicy.validateStack(stackArgs([user, attachment(UNKNOWN)]), (m) => reports.push(m));
    expect(reports).toEqual([]);
    await serviceUsersKeyPairOnlyPolicy.validateStack(stackArgs([user]), (m) => reports.push(m));
    expect(reports).toEqual([expect.stringContaining("service user SVC_PROD has no authentication policy attached")]);
  });
});
