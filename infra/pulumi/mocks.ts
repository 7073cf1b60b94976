import * as pulumi from "@pulumi/pulumi";
import { keyOf, type DeclaredResource, type ResourceKey } from "../platforms/resources";

// What a Pulumi program registers, found offline: it runs against Pulumi's mock engine, which records what the real
// engine would receive (inputs and options) and talks to no provider. Only the tests and the bench that prove the
// Pulumi layer need it; everything else reads the declared list.

/** A registration as the mocks see it: the declared record, the resources it names by key, without outputs. */
export type MockedResource = Omit<DeclaredResource, "parent" | "dependsOn" | "replaceWith" | "outputs"> & {
  parent?: ResourceKey;
  dependsOn: ResourceKey[];
  replaceWith: ResourceKey[];
};

/** The key of a registered resource, from the type token and name the SDK keeps on it (resource.ts, Resource). */
const keyOfRegistered = (resource: pulumi.Resource): ResourceKey => {
  const registered = resource as unknown as { __pulumiType: string; __name: string };
  return keyOf({ type: registered.__pulumiType, name: registered.__name });
};
const promiseOf = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));

/**
 * Runs `register` (which must pass the given options to its top-level components) under mocks and resolves once
 * every resource it created is registered. Mocks are process-global: one call per process (vitest isolates files).
 */
export async function declareUnderMocks(
  register: (opts: pulumi.ComponentResourceOptions) => void | Promise<void>,
  options: { preview?: boolean } = {},
): Promise<MockedResource[]> {
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

  const seen: { resource: pulumi.Resource; record: Omit<MockedResource, "inputs"> }[] = [];
  const recordOptions: pulumi.ResourceTransformation = (args) => {
    const dependsOn = args.opts.dependsOn;
    const dependencies = dependsOn === undefined ? [] : Array.isArray(dependsOn) ? dependsOn : [dependsOn];
    const opts = args.opts as pulumi.CustomResourceOptions;
    seen.push({
      resource: args.resource,
      record: {
        type: args.type as MockedResource["type"],
        name: args.name,
        custom: args.resource instanceof pulumi.CustomResource,
        ...(opts.parent ? { parent: keyOfRegistered(opts.parent) } : {}),
        protect: opts.protect === true,
        retainOnDelete: opts.retainOnDelete === true,
        deleteBeforeReplace: opts.deleteBeforeReplace === true,
        ignoreChanges: opts.ignoreChanges ?? [],
        dependsOn: (dependencies as pulumi.Resource[]).map(keyOfRegistered),
        replaceWith: (opts.replaceWith ?? []).map(keyOfRegistered),
        // Named aliases only: some SDK classes add type-only aliases of their own (a former type token).
        aliases: (opts.aliases ?? []).flatMap((alias) => {
          const name = (alias as pulumi.Alias).name;
          return typeof name === "string" ? [name] : [];
        }),
      },
    });
    return undefined;
  };
  await register({ transformations: [recordOptions] });
  await Promise.all(seen.map(({ resource }) => promiseOf(resource.urn)));
  return seen.map(({ record }) => ({ ...record, inputs: inputsOf.get(`${record.type}::${record.name}`) ?? {} }));
}
