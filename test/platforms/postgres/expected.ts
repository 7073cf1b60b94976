import { accessPaths } from "../../../infra/boundary/access";
import type { Boundary } from "../../../infra/boundary/model";
import type { LoginAccess } from "../../../infra/platforms/postgres/interpret";

/** The boundary's access in the terms the PostgreSQL interpreter reads back: login role, schema, strongest access. */
export function expectedPostgresAccess(boundary: Boundary): LoginAccess[] {
  const loginOf = new Map(boundary.principals.map((p) => [p.name, p.logins.postgres]));
  const levels = new Map<string, LoginAccess>();
  for (const path of accessPaths(boundary)) {
    const login = loginOf.get(path.principal)!;
    const key = `${login}/${path.schema}`;
    if (levels.get(key)?.access !== "write") levels.set(key, { login, schema: path.schema, access: path.access });
  }
  return [...levels.values()].sort((a, b) => `${a.login}/${a.schema}`.localeCompare(`${b.login}/${b.schema}`));
}
