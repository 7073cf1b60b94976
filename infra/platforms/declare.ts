import * as pulumi from "@pulumi/pulumi";
import type { Boundary } from "../boundary/model";
import type { StackSettings } from "../stack";
import { PostgresAccess } from "./postgres";
import { SnowflakeAccess } from "./snowflake";

// The resources `pulumi up` would manage, found offline: the components run against Pulumi's mock engine,
// which records what the real engine would receive (inputs and options) and talks to no provider.

export interface DeclaredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  custom: boolean;
  parent?: string;
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  /** Logical names of the resources this one was told to wait for. */
  dependsOn: string[];
  /** Logical names of the resources whose replacement replaces this one too. */
  replaceWith: string[];
}

const nameOf = (resource: pulumi.Resource): string => (resource as unknown as { __name: string }).__name;
const promiseOf = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));

/**
 * Runs `register` (which must pass the given options to its top-level component) under mocks and resolves once
 * every resource it created is registered. Mocks are process-global: one call per process (vitest isolates files).
 */
export async function declareUnderMocks(
  register: (opts: pulumi.ComponentResourceOptions) => void | Promise<void>,
  options: { preview?: boolean } = {},
): Promise<DeclaredResource[]> {
  const inputsOf = new Map<string, Record<string, unknown>>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        inputsOf.set(`${args.type}::${args.name}`, args.inputs as Record<string, unknown>);
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: () => ({}),
    },
    "warehouse-access",
    "prod",
    options.preview ?? true,
  );

  const seen: { resource: pulumi.Resource; record: Omit<DeclaredResource, "inputs"> }[] = [];
  const recordOptions: pulumi.ResourceTransformation = (args) => {
    const dependsOn = args.opts.dependsOn;
    const dependencies = dependsOn === undefined ? [] : Array.isArray(dependsOn) ? dependsOn : [dependsOn];
    seen.push({
      resource: args.resource,
      record: {
        type: args.type,
        name: args.name,
        custom: args.resource instanceof pulumi.CustomResource,
        ...(args.opts.parent ? { parent: nameOf(args.opts.parent) } : {}),
        protect: args.opts.protect === true,
        retainOnDelete: args.opts.retainOnDelete === true,
        deleteBeforeReplace: (args.opts as pulumi.CustomResourceOptions).deleteBeforeReplace === true,
        dependsOn: (dependencies as pulumi.Resource[]).map(nameOf),
        replaceWith: ((args.opts as pulumi.CustomResourceOptions).replaceWith ?? []).map(nameOf),
      },
    });
    return undefined;
  };
  await register({ transformations: [recordOptions] });
  await Promise.all(seen.map(({ resource }) => promiseOf(resource.urn)));
  return seen.map(({ record }) => ({ ...record, inputs: inputsOf.get(`${record.type}::${record.name}`) ?? {} }));
}

/** Every resource the program registers for a boundary, per configured platform. */
export function declareResources(boundary: Boundary, settings: StackSettings): Promise<DeclaredResource[]> {
  return declareUnderMocks((opts) => {
    if (settings.platforms.includes("postgres")) new PostgresAccess("postgres", { boundary, settings }, opts);
    if (settings.platforms.includes("snowflake")) new SnowflakeAccess("snowflake", { boundary, settings }, opts);
  });
}
