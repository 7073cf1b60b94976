// Reads PostgreSQL resources (as the declared list, a stack or the policy pack holds them) back into who can read or write each schema.
// It knows only PostgreSQL semantics, not our naming, so it also sees access that hand-written resources add.

import type { DeclaredResource } from "../declare";
import { strings, text } from "../inputs";
import { POSTGRES_READ_PRIVILEGES, POSTGRES_WRITE_PRIVILEGES, holdsAny } from "./privileges";

export interface LoginAccess {
  login: string;
  schema: string;
  access: "read" | "write";
}

/** The strongest access each login role has on each schema: ownership or CREATE or table DML is write; USAGE with SELECT is read. */
export function interpretPostgresAccess(resources: readonly Pick<DeclaredResource, "type" | "inputs">[]): LoginAccess[] {
  const of = (type: string) => resources.filter((r) => r.type === type).map((r) => r.inputs);
  const roles = of("postgresql:index/role:Role");
  const memberOf = new Map(roles.map((r) => [text(r.name)!, strings(r.roles)]));
  const holds = new Map<string, { usage: Set<string>; write: Set<string>; select: Set<string> }>();
  const rights = (role: string) => {
    const existing = holds.get(role);
    if (existing) return existing;
    const fresh = { usage: new Set<string>(), write: new Set<string>(), select: new Set<string>() };
    holds.set(role, fresh);
    return fresh;
  };

  for (const schema of of("postgresql:index/schema:Schema")) {
    const owner = text(schema.owner);
    if (owner) rights(owner).write.add(text(schema.name)!);
  }
  for (const grant of of("postgresql:index/grant:Grant")) {
    const role = text(grant.role)!;
    const schema = text(grant.schema);
    const privileges = strings(grant.privileges).map((p) => p.toUpperCase());
    if (!schema) continue;
    if (grant.objectType === "schema") {
      if (holdsAny(privileges, POSTGRES_READ_PRIVILEGES.schema)) rights(role).usage.add(schema);
      if (holdsAny(privileges, POSTGRES_WRITE_PRIVILEGES.schema)) rights(role).write.add(schema);
    } else if (grant.objectType === "table") {
      if (holdsAny(privileges, POSTGRES_READ_PRIVILEGES.table)) rights(role).select.add(schema);
      if (holdsAny(privileges, POSTGRES_WRITE_PRIVILEGES.table)) rights(role).write.add(schema);
    }
  }
  // SELECT on today's tables without SELECT on tomorrow's is not read access; both are required.
  const futureSelect = new Set(
    of("postgresql:index/defaultPrivileges:DefaultPrivileges")
      .filter((d) => d.objectType === "table" && holdsAny(strings(d.privileges).map((p) => p.toUpperCase()), POSTGRES_READ_PRIVILEGES.table))
      .map((d) => `${text(d.role)}\u0000${text(d.schema)}`),
  );

  const reachable = (login: string): string[] => {
    const found = new Set<string>([login]);
    const queue = [login];
    while (queue.length > 0) for (const role of memberOf.get(queue.shift()!) ?? []) if (!found.has(role)) found.add(role), queue.push(role);
    return [...found, "public"];
  };

  const result: LoginAccess[] = [];
  for (const login of roles.filter((r) => r.login === true).map((r) => text(r.name)!)) {
    const levels = new Map<string, "read" | "write">();
    for (const role of reachable(login)) {
      const held = holds.get(role);
      if (!held) continue;
      for (const schema of held.write) levels.set(schema, "write");
      for (const schema of held.select)
        if (held.usage.has(schema) && futureSelect.has(`${role}\u0000${schema}`) && levels.get(schema) !== "write") levels.set(schema, "read");
    }
    for (const [schema, access] of levels) result.push({ login, schema, access });
  }
  return result.sort((a, b) => `${a.login}/${a.schema}`.localeCompare(`${b.login}/${b.schema}`));
}
