import { PUBLIC } from "../../boundary/model";
import { PG } from "../kinds";
import type { DeclaredResource } from "../resources";

// terraform-provider-postgresql's pgLockRole (postgresql/helpers.go) takes an advisory lock on a role and then on every
// member of it, in no fixed order. Grant create/update/delete lock `role`, DefaultPrivileges create/update/delete lock
// `owner`, Role update and delete lock the role itself (resource_postgresql_{grant,default_privileges,role}.go). On
// PostgreSQL 16+ the provisioner is an ADMIN member of every role it created, so all those lock sets share it, and two
// such resources applied at once by the engine can deadlock (40P01). So no two of them ever run at once: each waits for
// the one registered before it. Registration order is already topological, so the chain adds no cycle.

/** Whether the provider takes role advisory locks for this resource. PUBLIC has no pg_roles row: a grant to it locks nothing. */
export function takesRoleLocks(resource: Pick<DeclaredResource, "type" | "inputs">): boolean {
  switch (resource.type) {
    case PG.role:
    case PG.defaultPrivileges:
      return true;
    case PG.grant:
      return typeof resource.inputs.role === "string" && resource.inputs.role.toLowerCase() !== PUBLIC;
    default:
      return false;
  }
}

/** The same resources, each lock-taking one also depending on the lock-taking one registered just before it. */
export function chainRoleLocks(resources: readonly DeclaredResource[]): DeclaredResource[] {
  let previous: DeclaredResource | undefined;
  return resources.map((resource) => {
    if (!takesRoleLocks(resource)) return resource;
    const before = previous;
    previous = resource;
    if (before === undefined || resource.refs.dependsOn.includes(before.refs.key)) return resource;
    return {
      ...resource,
      dependsOn: [...resource.dependsOn, before.name],
      refs: { ...resource.refs, dependsOn: [...resource.refs.dependsOn, before.refs.key] },
    };
  });
}
