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
  /** The component this one belongs to (part of its URN); none for the top-level components. */
  parent?: DeclaredResource;
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  /** Input names whose changes Pulumi ignores. */
  ignoreChanges: readonly string[];
  /** The resources this one was told to wait for, as Pulumi's `dependsOn` names them: references, declared before it. */
  dependsOn: readonly DeclaredResource[];
  /** The resources whose replacement replaces this one too. */
  replaceWith: readonly DeclaredResource[];
  /** Former logical names (same type and parent): a stack that has the resource under one adopts it instead of replacing it. */
  aliases: readonly string[];
  /** A component's outputs (registerOutputs). */
  outputs?: Record<string, unknown>;
}

export const keyOf = (resource: Pick<DeclaredResource, "type" | "name">): ResourceKey => `${resource.type}::${resource.name}`;

/** Why Pulumi refuses a program that registers `key` twice: one URN for two resources. */
export const duplicateKey = (key: ResourceKey): string => `two resources would be ${key}; logical names must be unique per type`;

/** The logical names of some resources, for people and for reports (keys, not names, wire resources together). */
export const namesOf = (resources: readonly Pick<DeclaredResource, "name">[]): string[] => resources.map((r) => r.name);

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

const listOrNone = <T>(list: readonly T[] | undefined): readonly T[] => (list === undefined || list.length === 0 ? NONE : list);

export interface ResourceListOptions {
  /**
   * Provider resources no two of which may run at once: each also waits for the one of them declared just before it. Declaration
   * order is registration order, which is topological, so the chain adds no cycle.
   */
  oneAtATime?: (resource: Pick<DeclaredResource, "type" | "inputs">) => boolean;
}

/**
 * Collects one platform's resources in declaration order; references are to resources already declared. Names are the
 * platform's business: two resources with one type and name are refused where Pulumi would refuse them, at registration
 * (infra/pulumi, and the sandbox's engine), and the platforms' property tests keep every list free of them.
 */
export class ResourceList {
  readonly resources: DeclaredResource[] = [];
  private lastOneAtATime: DeclaredResource | undefined;

  constructor(private readonly options: ResourceListOptions = {}) {}

  component(type: ComponentType, name: string, parent?: DeclaredResource): DeclaredResource {
    const component: DeclaredResource = {
      type, name, inputs: {}, custom: false, protect: false, retainOnDelete: false, deleteBeforeReplace: false,
      ignoreChanges: NONE, dependsOn: NONE, replaceWith: NONE, aliases: NONE,
    };
    if (parent !== undefined) component.parent = parent;
    return this.push(component);
  }

  /** A provider resource; the SDK's argument type for `type` checks `inputs`. Option lists are kept, not copied. */
  resource<T extends ProviderResourceType>(type: T, name: string, inputs: InputsOf<T>, options: DeclareOptions): DeclaredResource {
    return this.push({
      type, name, inputs: inputs as Record<string, unknown>, custom: true, parent: options.parent,
      protect: options.protect === true,
      retainOnDelete: options.retainOnDelete === true,
      deleteBeforeReplace: options.deleteBeforeReplace === true,
      ignoreChanges: listOrNone(options.ignoreChanges),
      dependsOn: listOrNone(options.dependsOn),
      replaceWith: listOrNone(options.replaceWith),
      aliases: listOrNone(options.aliases),
    });
  }

  private push(resource: DeclaredResource): DeclaredResource {
    if (resource.custom && this.options.oneAtATime?.(resource)) {
      const before = this.lastOneAtATime;
      if (before !== undefined && !resource.dependsOn.includes(before)) resource.dependsOn = [...resource.dependsOn, before];
      this.lastOneAtATime = resource;
    }
    this.resources.push(resource);
    return resource;
  }
}
