import type { ComponentType, InputsOf, ProviderResourceType } from "./kinds";

// The resources `pulumi up` would manage, as data: what each platform declares for a boundary, in registration order.
// infra/pulumi turns this list into provider resources and components one for one; everything else reads it directly.

/** A resource's identity in the stack: type token and logical name (a logical name alone may be shared across types). */
export type ResourceKey = `${string}::${string}`;

export interface DeclaredResource {
  /** A ResourceType when declared here; readers also take hand-written or recorded resources of any type. */
  type: string;
  name: string;
  /** The provider inputs exactly as `pulumi up` sends them (components have none). */
  inputs: Record<string, unknown>;
  /** A provider resource (true) or one of our components (false). */
  custom: boolean;
  /** Logical name of the component this one belongs to (part of its URN); none for the top-level components. */
  parent?: string;
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  /** Input names whose changes Pulumi ignores. */
  ignoreChanges: readonly string[];
  /** Logical names of the resources this one was told to wait for. */
  dependsOn: readonly string[];
  /** Logical names of the resources whose replacement replaces this one too. */
  replaceWith: readonly string[];
  /** Former logical names (same type and parent): a stack that has the resource under one adopts it instead of replacing it. */
  aliases: readonly string[];
  /** Its own key, and parent, dependsOn and replaceWith by key, which the Pulumi layer wires them by. */
  refs: { key: ResourceKey; parent?: ResourceKey; dependsOn: readonly ResourceKey[]; replaceWith: readonly ResourceKey[] };
  /** A component's outputs (registerOutputs). */
  outputs?: Record<string, unknown>;
}

export const keyOf = (resource: Pick<DeclaredResource, "type" | "name">): ResourceKey => `${resource.type}::${resource.name}`;

export interface DeclareOptions {
  /** Every resource belongs to a component. */
  parent: DeclaredResource;
  dependsOn?: readonly DeclaredResource[];
  replaceWith?: readonly DeclaredResource[];
  protect?: boolean;
  retainOnDelete?: boolean;
  deleteBeforeReplace?: boolean;
  ignoreChanges?: readonly string[];
  aliases?: readonly string[];
}

/** The one empty list every resource without dependencies, replacements or ignored inputs shares (150,000 of them at 1,000 × 50). */
const NONE: readonly never[] = Object.freeze([]);

const namesOf = (resources: readonly DeclaredResource[]): readonly string[] => (resources.length === 0 ? NONE : resources.map((r) => r.name));
const keysOf = (resources: readonly DeclaredResource[]): readonly ResourceKey[] => (resources.length === 0 ? NONE : resources.map((r) => r.refs.key));

/** Collects one platform's resources in declaration order; references are to resources already declared. */
export class ResourceList {
  readonly resources: DeclaredResource[] = [];
  private readonly names = new Map<string, Set<string>>();

  component(type: ComponentType, name: string, parent?: DeclaredResource): DeclaredResource {
    return this.push({
      type, name, inputs: {}, custom: false, ...(parent ? { parent: parent.name } : {}),
      protect: false, retainOnDelete: false, deleteBeforeReplace: false, ignoreChanges: NONE, dependsOn: NONE, replaceWith: NONE, aliases: NONE,
      refs: { key: `${type}::${name}`, ...(parent ? { parent: parent.refs.key } : {}), dependsOn: NONE, replaceWith: NONE },
    });
  }

  /** A provider resource; the SDK's argument type for `type` checks `inputs`. */
  resource<T extends ProviderResourceType>(type: T, name: string, inputs: InputsOf<T>, options: DeclareOptions): DeclaredResource {
    const dependsOn = options.dependsOn ?? NONE;
    const replaceWith = options.replaceWith ?? NONE;
    return this.push({
      type, name, inputs: inputs as Record<string, unknown>, custom: true, parent: options.parent.name,
      protect: options.protect === true,
      retainOnDelete: options.retainOnDelete === true,
      deleteBeforeReplace: options.deleteBeforeReplace === true,
      ignoreChanges: options.ignoreChanges === undefined || options.ignoreChanges.length === 0 ? NONE : [...options.ignoreChanges],
      dependsOn: namesOf(dependsOn),
      replaceWith: namesOf(replaceWith),
      aliases: options.aliases === undefined || options.aliases.length === 0 ? NONE : [...options.aliases],
      refs: { key: `${type}::${name}`, parent: options.parent.refs.key, dependsOn: keysOf(dependsOn), replaceWith: keysOf(replaceWith) },
    });
  }

  private push(resource: DeclaredResource): DeclaredResource {
    const names = this.names.get(resource.type) ?? this.names.set(resource.type, new Set()).get(resource.type)!;
    // Two resources with one type and name would share a URN: Pulumi refuses the program, so refuse it here first.
    if (names.has(resource.name)) throw new Error(`two resources would be ${resource.refs.key}; logical names must be unique per type`);
    names.add(resource.name);
    this.resources.push(resource);
    return resource;
  }
}
