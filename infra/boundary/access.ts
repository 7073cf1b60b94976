import { PUBLIC, type Access, type Boundary, type RoleName, type SchemaName } from "./model";

/** One way a principal reaches access on a schema. */
export interface AccessPath {
  principal: string;
  schema: SchemaName;
  access: Access;
  /** Roles walked from the principal to the one that holds the access; empty for PUBLIC. */
  via: RoleName[];
  source: "grant" | "owner" | "public";
}

/** Every role a member reaches through memberships, each with the shortest chain that reaches it. */
export function reachableRoles(boundary: Pick<Boundary, "memberships">, member: string): Map<RoleName, RoleName[]> {
  const rolesOf = new Map<string, RoleName[]>();
  for (const m of boundary.memberships) rolesOf.set(m.member, [...(rolesOf.get(m.member) ?? []), m.role]);
  const chains = new Map<RoleName, RoleName[]>();
  const queue: { name: string; chain: RoleName[] }[] = [{ name: member, chain: [] }];
  while (queue.length > 0) {
    const { name, chain } = queue.shift()!;
    for (const role of rolesOf.get(name) ?? []) {
      if (chains.has(role) || role === member) continue;
      const next = [...chain, role];
      chains.set(role, next);
      queue.push({ name: role, chain: next });
    }
  }
  return chains;
}

/** Who can do what on which schema, derived from grants, ownership and memberships: the question reports answer. */
export function accessPaths(boundary: Boundary): AccessPath[] {
  const grantsOf = new Map<string, Boundary["grants"]>();
  for (const g of boundary.grants) grantsOf.set(g.role, [...(grantsOf.get(g.role) ?? []), g]);
  const ownedBy = new Map<string, SchemaName[]>();
  for (const s of boundary.schemas) if (s.owner !== null) ownedBy.set(s.owner, [...(ownedBy.get(s.owner) ?? []), s.name]);

  const paths: AccessPath[] = [];
  for (const principal of boundary.principals) {
    const holders: [string, RoleName[]][] = [[principal.name, []], ...reachableRoles(boundary, principal.name)];
    for (const [holder, via] of holders) {
      for (const g of grantsOf.get(holder) ?? []) paths.push({ principal: principal.name, schema: g.schema, access: g.access, via, source: "grant" });
      for (const schema of ownedBy.get(holder) ?? []) paths.push({ principal: principal.name, schema, access: "write", via, source: "owner" });
    }
    for (const g of grantsOf.get(PUBLIC) ?? []) paths.push({ principal: principal.name, schema: g.schema, access: g.access, via: [], source: "public" });
  }
  return paths;
}

const writes = (p: AccessPath) => p.access === "write";

/** The principals that can write to `schema`, with how. */
export const writersOf = (paths: AccessPath[], schema: SchemaName): AccessPath[] =>
  paths.filter((p) => p.schema === schema && writes(p));

/** The principals that can read `schema` (writing implies reading), with how. */
export const readersOf = (paths: AccessPath[], schema: SchemaName): AccessPath[] =>
  paths.filter((p) => p.schema === schema);
