import { keyOf, type DeclaredResource, type ResourceKey } from "../../infra/platforms/resources";

// The URNs Pulumi gives the declared resources, worked out from the list alone: the stack and project, the types of
// every enclosing component ($-joined, the root stack's left out), the resource's type and its logical name.

export function urnsOf(resources: readonly DeclaredResource[], stack = "prod", project = "warehouse-access"): Map<ResourceKey, string> {
  const typeChain = (r: DeclaredResource): string => (r.parent === undefined ? r.type : `${typeChain(r.parent)}$${r.type}`);
  return new Map(resources.map((r) => [keyOf(r), `urn:pulumi:${stack}::${project}::${typeChain(r)}::${r.name}`]));
}
