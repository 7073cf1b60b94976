import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as snowflake from "@pulumi/snowflake";
import type { ProviderResourceType } from "../platforms/kinds";
import { duplicateKey, keyOf, type DeclaredResource, type ResourceKey } from "../platforms/resources";

// The thin Pulumi layer: each declared resource becomes the provider SDK's resource (or a component) with exactly the
// declared name, inputs and options. It decides nothing; what to declare is infra/platforms' business.

/** A component whose outputs are registered once its children exist, as a component class does at the end of its constructor. */
class Component extends pulumi.ComponentResource {
  finish(outputs: Record<string, unknown>): void {
    this.registerOutputs(outputs);
  }
}

type ProviderClass = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

const PROVIDER_CLASSES: Record<ProviderResourceType, ProviderClass> = {
  "postgresql:index/role:Role": postgresql.Role,
  "postgresql:index/schema:Schema": postgresql.Schema,
  "postgresql:index/grant:Grant": postgresql.Grant,
  "postgresql:index/defaultPrivileges:DefaultPrivileges": postgresql.DefaultPrivileges,
  "postgresql:index/function:Function": postgresql.Function,
  "postgresql:index/grantRole:GrantRole": postgresql.GrantRole,
  "snowflake:index/accountRole:AccountRole": snowflake.AccountRole,
  "snowflake:index/grantAccountRole:GrantAccountRole": snowflake.GrantAccountRole,
  "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole": snowflake.GrantPrivilegesToAccountRole,
  "snowflake:index/grantOwnership:GrantOwnership": snowflake.GrantOwnership,
  "snowflake:index/schema:Schema": snowflake.Schema,
  "snowflake:index/procedureSql:ProcedureSql": snowflake.ProcedureSql,
  "snowflake:index/authenticationPolicy:AuthenticationPolicy": snowflake.AuthenticationPolicy,
  "snowflake:index/serviceUser:ServiceUser": snowflake.ServiceUser,
  "snowflake:index/userAuthenticationPolicyAttachment:UserAuthenticationPolicyAttachment": snowflake.UserAuthenticationPolicyAttachment,
};

/**
 * Registers every resource of the list, in its order (a resource refers only to ones before it). `opts` goes to the
 * top-level components, as a caller would pass it to them. Returns what it made, by key.
 */
export function registerResources(resources: readonly DeclaredResource[], opts: pulumi.ComponentResourceOptions = {}): Map<ResourceKey, pulumi.Resource> {
  const made = new Map<ResourceKey, pulumi.Resource>();
  const resolve = (declared: DeclaredResource): pulumi.Resource => {
    const resource = made.get(keyOf(declared));
    if (resource === undefined) throw new Error(`${keyOf(declared)} is referred to before it is declared`);
    return resource;
  };
  const components: [Component, Record<string, unknown>][] = [];
  for (const r of resources) {
    const key = keyOf(r);
    // Two resources with one URN: Pulumi refuses the program at the second, so refuse it here first, saying why.
    if (made.has(key)) throw new Error(duplicateKey(key));
    const parent = r.parent === undefined ? undefined : resolve(r.parent);
    const options: pulumi.CustomResourceOptions = {
      ...(parent === undefined ? opts : { parent }),
      ...(r.dependsOn.length > 0 ? { dependsOn: r.dependsOn.map(resolve) } : {}),
      ...(r.replaceWith.length > 0 ? { replaceWith: r.replaceWith.map(resolve) } : {}),
      ...(r.protect ? { protect: true } : {}),
      ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
      ...(r.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
      ...(r.ignoreChanges.length > 0 ? { ignoreChanges: [...r.ignoreChanges] } : {}),
      // An alias with a name only keeps the resource's type and parent (@pulumi/pulumi resource.ts Alias).
      ...(r.aliases.length > 0 ? { aliases: r.aliases.map((name) => ({ name })) } : {}),
    };
    if (r.custom) {
      made.set(key, new PROVIDER_CLASSES[r.type as ProviderResourceType](r.name, r.inputs as never, options));
      continue;
    }
    const component = new Component(r.type, r.name, {}, options);
    if (r.outputs !== undefined) components.push([component, r.outputs]);
    made.set(key, component);
  }
  for (const [component, outputs] of components) component.finish(outputs);
  return made;
}
