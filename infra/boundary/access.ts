import { PUBLIC, type Access, type Boundary, type RoleName, type SchemaName } from "./model";

/** One way a principal reaches access on a schema. */
export interface AccessPath {
  principal: string;
  schema: SchemaName;
  access: Access;
  /** Roles walked to the one that holds the access: from the principal, or from PUBLIC when the source is
   *  "public" (empty for a grant or ownership held by PUBLIC itself). */
  via: RoleName[];
  source: "grant" | "owner" | "public";
}

type Holding = Pick<AccessPath, "schema" | "access"> & { source: "grant" | "owner" };

/** The boundary indexed for access questions: who is directly a member of what, what each holder holds. */
class AccessIndex {
  private readonly rolesOf = new Map<string, RoleName[]>();
  private readonly holdings = new Map<string, Holding[]>();

  constructor(boundary: Pick<Boundary, "memberships"> & Partial<Pick<Boundary, "grants" | "schemas">>) {
    for (const m of boundary.memberships) push(this.rolesOf, m.member, m.role);
    for (const g of boundary.grants ?? []) push(this.holdings, g.role, { schema: g.schema, access: g.access, source: "grant" });
    for (const s of boundary.schemas ?? [])
      if (s.owner !== null) push(this.holdings, s.owner, { schema: s.name, access: "write", source: "owner" });
  }

  /** Breadth first, so each role comes with the shortest chain that reaches it. */
  reachable(member: string): Map<RoleName, RoleName[]> {
    const chains = new Map<RoleName, RoleName[]>();
    const queue: { name: string; chain: RoleName[] }[] = [{ name: member, chain: [] }];
    for (let i = 0; i < queue.length; i++) {
      const { name, chain } = queue[i]!;
      for (const role of this.rolesOf.get(name) ?? []) {
        if (chains.has(role) || role === member) continue;
        const next = [...chain, role];
        chains.set(role, next);
        queue.push({ name: role, chain: next });
      }
    }
    return chains;
  }

  /** What `holder` holds itself and through every role it reaches. */
  heldBy(holder: string, skip: (role: RoleName) => boolean = () => false): { via: RoleName[]; holding: Holding }[] {
    const held: { via: RoleName[]; holding: Holding }[] = [];
    for (const [name, via] of [[holder, []] as [string, RoleName[]], ...this.reachable(holder)]) {
      if (via.some(skip)) continue;
      for (const holding of this.holdings.get(name) ?? []) held.push({ via, holding });
    }
    return held;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Access questions on one boundary, answered from indexes built once. */
export interface AccessView {
  /** Every role `member` reaches through memberships, each with the shortest chain that reaches it. */
  reachable(member: string): Map<RoleName, RoleName[]>;
  /** What one holder (a principal, a role, or PUBLIC) can do by itself and through the roles it reaches.
   *  `principal` in each path is the holder; PUBLIC's share of a principal's access is not included. */
  accessOf(holder: string): AccessPath[];
  /** Every principal's access paths, PUBLIC's share included: see accessPaths. */
  paths(): AccessPath[];
}

export function accessView(boundary: Boundary): AccessView {
  const index = new AccessIndex(boundary);
  let all: AccessPath[] | undefined;
  return {
    reachable: (member) => index.reachable(member),
    accessOf: (holder) => index.heldBy(holder).map(({ via, holding }) => ({ principal: holder, ...holding, via })),
    paths: () => (all ??= principalPaths(boundary, index)),
  };
}

/** Every role a member reaches through memberships, each with the shortest chain that reaches it. */
export function reachableRoles(boundary: Pick<Boundary, "memberships">, member: string): Map<RoleName, RoleName[]> {
  return new AccessIndex(boundary).reachable(member);
}

/** What one holder (a principal, a role, or PUBLIC) can do by itself and through the roles it reaches.
 *  `principal` in each path is the holder; PUBLIC's share of a principal's access is not included. */
export const accessOf = (boundary: Boundary, holder: string): AccessPath[] => accessView(boundary).accessOf(holder);

/** Who can do what on which schema, derived from grants, ownership and memberships: the question reports answer.
 *  Everything PUBLIC holds, directly or through roles PUBLIC is a member of, every principal holds too. */
export const accessPaths = (boundary: Boundary): AccessPath[] => principalPaths(boundary, new AccessIndex(boundary));

function principalPaths(boundary: Boundary, index: AccessIndex): AccessPath[] {
  const isPublic = (role: RoleName) => role === PUBLIC;
  const publicHeld = index.heldBy(PUBLIC);
  const paths: AccessPath[] = [];
  for (const principal of boundary.principals) {
    for (const { via, holding } of index.heldBy(principal.name, isPublic))
      paths.push({ principal: principal.name, ...holding, via });
    for (const { via, holding } of publicHeld)
      paths.push({ principal: principal.name, schema: holding.schema, access: holding.access, via, source: "public" });
  }
  return paths;
}
