import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { declareResources } from "../infra/platforms/declare";
import { keyOf } from "../infra/platforms/resources";
import { errorMessages, loadStackConfig, runPulumiProgram, type ProgramRun, type RegisteredResource } from "./support/pulumi-runtime";
import { REPO_ROOT, shippedBoundary, shippedSettings } from "./support/shipped";
import { urnsOf } from "./support/urns";

// infra/index.ts loaded the way `pulumi up -s prod` loads it: cmd/run, ts-node, Pulumi.yaml and Pulumi.prod.yaml.

const STACK_TYPE = "pulumi:pulumi:Stack";
const scratch = mkdtempSync(path.join(tmpdir(), "warehouse-access-program-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What the engine is told about a resource: URN, parent, inputs, every option, and a component's outputs. */
const registration = (r: RegisteredResource) => ({
  urn: r.urn, parent: r.parent, custom: r.custom, inputs: r.inputs, outputs: r.outputs ?? {},
  protect: r.protect, retainOnDelete: r.retainOnDelete, deleteBeforeReplace: r.deleteBeforeReplace, ignoreChanges: r.ignoreChanges,
  dependencies: [...r.dependencies].sort(), replaceWith: [...r.replaceWith].sort(),
});

/** The same, worked out from the declared list alone: what the Pulumi layer must register for each entry. */
function declaredRegistrations(stackUrn: string) {
  const resources = declareResources(shippedBoundary(), shippedSettings());
  const urns = urnsOf(resources);
  const urn = (key: Parameters<typeof urns.get>[0]) => urns.get(key)!;
  return resources.map((r) => ({
    urn: urn(keyOf(r)), parent: r.parent === undefined ? stackUrn : urn(keyOf(r.parent)), custom: r.custom, inputs: r.inputs,
    outputs: r.outputs ?? {}, protect: r.protect, retainOnDelete: r.retainOnDelete, deleteBeforeReplace: r.deleteBeforeReplace,
    // The SDK also waits for what a resource is replaced with (runtime/resource.js, prepareResource).
    ignoreChanges: r.ignoreChanges, dependencies: [...new Set([...r.dependsOn, ...r.replaceWith].map(keyOf))].map(urn).sort(),
    replaceWith: r.replaceWith.map(keyOf).map(urn).sort(),
  }));
}
const byUrn = (a: { urn: string }, b: { urn: string }) => a.urn.localeCompare(b.urn);

describe("the program under Pulumi's own Node.js runtime, with the shipped stack config", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runPulumiProgram({ programDir: REPO_ROOT, stack: "prod", config: loadStackConfig(REPO_ROOT, "prod"), dryRun: true, timeoutMs: 240_000 });
  }, 300_000);

  it("runs to completion", () => {
    expect(run.exitCode, errorMessages(run)).toBe(0);
  });

  it("registers exactly the declared list: same URNs, parents, inputs, options, dependencies and component outputs", () => {
    const registered = run.resources.filter((r) => r.type !== STACK_TYPE);
    expect(registered.map(registration).sort(byUrn)).toEqual(declaredRegistrations(run.rootUrn!).sort(byUrn));
    expect(registered.length).toBeGreaterThan(150);
  });

  it("exports who writes each prod schema, each developer's schemas and the resource counts", () => {
    expect(run.outputs.prodWriters).toEqual({
      prod_finance: ["svc_prod (via prod_writer)"], prod_marketing: ["svc_prod (via prod_writer)"],
      prod_product: ["svc_prod (via prod_writer)"], prod_sales: ["svc_prod (via prod_writer)"],
    });
    expect(run.outputs.developerSchemas).toMatchObject({ dave: ["dave_product"], erin: ["erin_finance", "erin_sales"] });
    expect(run.outputs.resourceCounts).toEqual({ postgres: 71, snowflake: 106 });
  });
});

describe("the program with an invalid roster", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    const roster = path.join(scratch, "team.yaml");
    writeFileSync(roster, "domains:\n  - name: sales\ndevelopers:\n  - name: alice\n    email: not-an-email\nservice_accounts:\n  - name: svc_prod\n    purpose: prod\n");
    const config = { ...loadStackConfig(REPO_ROOT, "prod"), "warehouse-access:roster": roster };
    run = await runPulumiProgram({ programDir: REPO_ROOT, stack: "prod", config, dryRun: true, timeoutMs: 240_000 });
  }, 300_000);

  it("exits non-zero with the validation message plan prints", () => {
    expect(run.exitCode).not.toBe(0);
    expect(errorMessages(run)).toContain(`${path.join(scratch, "team.yaml")}:5:5: developers[0].email: is not a valid email address`);
  });

  it("registers nothing but the stack", () => {
    expect(run.resources.map((r) => r.type)).toEqual([STACK_TYPE]);
  });
});
