import { PUBLIC } from "../../boundary/model";
import { PG } from "../kinds";
import type { DeclaredResource } from "../resources";

// terraform-provider-postgresql's pgLockRole (postgresql/helpers.go) takes an advisory lock on a role and then on every
// member of it, in no fixed order. Grant create/update/delete lock `role`, DefaultPrivileges create/update/delete lock
// `owner`, Role update and delete lock the role itself (resource_postgresql_{grant,default_privileges,role}.go). On
// PostgreSQL 16+ the provisioner is an ADMIN member of every role it created, so all those lock sets share it, and two
// such resources applied at once by the engine can deadlock (40P01). So no two of them ever run at once: the
// PostgreSQL list declares them `oneAtATime`, each waiting for the one declared before it.

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
