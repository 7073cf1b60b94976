import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { parse as parseYaml } from "yaml";
import type { DeclaredResource } from "../../infra/platforms/declare";
import { namesOf } from "../../infra/platforms/resources";
import { resourcePolicies, stackPolicies } from "../../policy/policies";
import { REPO_ROOT } from "../support/shipped";

// Calls the pack's policies the way @pulumi/policy's analyzer does, without the PolicyPack (which starts a gRPC
// server): resource policies get one resource's args, stack policies every resource with its dependencies.

/** A resource as a test writes it by hand: type token, name, inputs, and the options that matter. */
export interface Written {
  type: string;
  name: string;
  props: Record<string, unknown>;
  protect?: boolean;
  dependsOn?: readonly string[];
}

export interface Report {
  policy: string;
  message: string;
}

const config = (parseYaml(readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> }).config;

/** The provider inputs the engine would pass along, from the shipped stack config (postgresql:username, snowflake:role, ...). */
export function providerOf(type: string): { type: string; name: string; urn: string; props: Record<string, unknown> } | undefined {
  const pkg = type.split(":")[0]!;
  if (pkg !== "postgresql" && pkg !== "snowflake") return undefined;
  const props = Object.fromEntries(
    Object.entries(config).filter(([k]) => k.startsWith(`${pkg}:`)).map(([k, v]) => [k.slice(pkg.length + 1), v]),
  );
  return { type: `pulumi:providers:${pkg}`, name: "default", urn: `urn:pulumi:prod::warehouse-access::pulumi:providers:${pkg}::default`, props };
}

export const urnOf = (r: Pick<Written, "type" | "name">): string => `urn:pulumi:prod::warehouse-access::${r.type}::${r.name}`;

const fromDeclared = (d: DeclaredResource): Written => ({ type: d.type, name: d.name, props: d.inputs, protect: d.protect, dependsOn: namesOf(d.dependsOn) });
export const asWritten = (resources: readonly (Written | DeclaredResource)[]): Written[] =>
  resources.map((r) => ("inputs" in r ? fromDeclared(r) : r));

const optionsOf = (r: Written) => ({
  protect: r.protect === true,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
});

const notApplicable = (reason?: string): never => {
  throw new Error(`not applicable: ${reason ?? ""}`);
};

/** What a resource policy and a stack policy both see of a resource. */
function policyView(r: Written) {
  const provider = providerOf(r.type);
  return {
    type: r.type,
    name: r.name,
    urn: urnOf(r),
    props: r.props,
    opts: optionsOf(r),
    ...(provider ? { provider } : {}),
    isType: () => false,
    asType: () => undefined,
  };
}

export function resourceArgs(r: Written): ResourceValidationArgs {
  return { ...policyView(r), stackTags: new Map(), getConfig: <T extends object>() => ({}) as T, notApplicable };
}

export function stackArgs(written: readonly Written[]): StackValidationArgs {
  const resources: PolicyResource[] = written.map((r) => ({ ...policyView(r), dependencies: [], propertyDependencies: {} }));
  // dependsOn names resources by logical name, as the declared list records it.
  const byName = new Map(resources.map((r) => [r.name, r]));
  written.forEach((w, i) => {
    resources[i]!.dependencies = (w.dependsOn ?? []).map((n) => byName.get(n)).filter((r): r is PolicyResource => r !== undefined);
  });
  return { resources, stackTags: new Map(), getConfig: <T extends object>() => ({}) as T, notApplicable };
}

/** Every violation every policy of the pack reports for these resources, in policy order. */
export async function reportsFor(resources: readonly (Written | DeclaredResource)[]): Promise<Report[]> {
  const written = asWritten(resources);
  const reports: Report[] = [];
  for (const policy of resourcePolicies) {
    const validations = policy.validateResource === undefined ? [] : [policy.validateResource].flat();
    for (const r of written)
      for (const validate of validations) await validate(resourceArgs(r), (message) => reports.push({ policy: policy.name, message }));
  }
  for (const policy of stackPolicies)
    await policy.validateStack(stackArgs(written), (message) => reports.push({ policy: policy.name, message }));
  return reports;
}
