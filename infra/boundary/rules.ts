import { PROD_WRITER, isProdSchemaName } from "../roster/naming";
import { accessView, type AccessPath } from "./access";
import { PUBLIC, type Boundary, type Schema } from "./model";

// The deny rules D1–D5 of DESIGN.md, checked on a boundary before anything reaches a warehouse.
// D1 and D4 look at what is granted and owned; D2, D3, D4 and D5 also follow memberships, so access handed on
// through a chain of roles (or through PUBLIC) is caught where it lands.

export type Rule = "D1" | "D2" | "D3" | "D4" | "D5";

export interface Violation {
  rule: Rule;
  /** The schema, role or principal the violation is about. */
  subject: string;
  message: string;
}

export const RULES: Record<Rule, string> = {
  D1: "only prod_writer writes to prod schemas",
  D2: "prod_writer is held only by purpose: prod service accounts",
  D3: "PUBLIC holds nothing on prod schemas",
  D4: "a developer role writes exactly its developer's schemas (owning them, or creating in a restricted copy) and nowhere else",
  D5: "no path lets a non-reader read a restricted domain's prod schema or any developer or CI copy of it",
};

/** How an access path gets there, for a message: "directly", "through a → b", "through PUBLIC → a". */
const how = (path: Pick<AccessPath, "via" | "source">): string => {
  const chain = path.source === "public" ? ["PUBLIC", ...path.via] : path.via;
  const through = chain.length > 0 ? `through ${chain.join(" → ")}` : "directly";
  return path.source === "owner" ? `${through} (as owner)` : through;
};

export function checkBoundary(boundary: Boundary): Violation[] {
  const violations: Violation[] = [];
  const flag = (rule: Rule, subject: string, message: string) => violations.push({ rule, subject, message });
  const access = accessView(boundary);
  const principal = new Map(boundary.principals.map((p) => [p.name, p]));
  const schemaByName = new Map(boundary.schemas.map((s) => [s.name, s]));
  const isProdAccount = (name: string) => {
    const p = principal.get(name);
    return p?.kind === "service" && p.purpose === "prod";
  };
  // A schema is prod when declared so or when it carries the prod_ prefix: an undeclared prod_ schema is still prod.
  const isProd = (schema: string) => schemaByName.get(schema)?.kind === "prod" || isProdSchemaName(schema);

  // D1: write on prod comes from a grant or from ownership; only prod_writer may hold either (PUBLIC is D3's).
  for (const schema of boundary.schemas)
    if (isProd(schema.name) && schema.owner !== null && schema.owner !== PROD_WRITER)
      flag("D1", schema.name, `${schema.owner} owns prod schema ${schema.name}; an owner can write everything in it. Leave prod schemas to the provisioner and grant write to ${PROD_WRITER} only`);
  for (const grant of boundary.grants)
    if (isProd(grant.schema) && grant.access === "write" && grant.role !== PROD_WRITER && grant.role !== PUBLIC)
      flag("D1", grant.schema, `${grant.role} has write on prod schema ${grant.schema}. Remove the grant: only ${PROD_WRITER} may write to prod schemas`);

  // D2: nobody but a prod service account is a member of prod_writer, and nobody else reaches it through a chain.
  for (const m of boundary.memberships)
    if (m.role === PROD_WRITER && !isProdAccount(m.member))
      flag("D2", m.member, `${m.member} is a member of ${PROD_WRITER}, which only purpose: prod service accounts may hold. Remove the membership`);
  const members = new Set([...boundary.principals.map((p) => p.name), ...boundary.memberships.map((m) => m.member)]);
  for (const member of members) {
    if (member === PROD_WRITER || isProdAccount(member)) continue;
    const chain = access.reachable(member).get(PROD_WRITER);
    if (chain && chain.length > 1)
      flag("D2", member, `${member} reaches ${PROD_WRITER} through ${chain.join(" → ")}. Break that chain of memberships`);
  }

  // D3: PUBLIC holds nothing on prod, neither by a grant nor through a role it was made a member of.
  for (const path of access.accessOf(PUBLIC)) {
    if (!isProd(path.schema)) continue;
    const fix = path.via.length > 0 ? `Remove PUBLIC from ${path.via[0]}`
      : path.source === "owner" ? "Give the schema back to the provisioner"
        : "Remove the grant; prod schemas revoke everything from PUBLIC";
    const through = path.via.length > 0 ? how({ ...path, source: "public" }) : how(path);
    flag("D3", path.schema, `PUBLIC has ${path.access} on prod schema ${path.schema} ${through}, so every login does. ${fix}`);
  }

  // D4: a developer schema is owned by its developer's role, and no developer writes anyone else's schemas.
  const developerRole = new Map(boundary.roles.filter((r) => r.kind === "developer" && r.of !== undefined).map((r) => [r.of!, r.name]));
  const developerSchema = (name: string): Schema | undefined => {
    const schema = schemaByName.get(name);
    return schema?.kind === "developer" ? schema : undefined;
  };
  const writeGrant = new Set(boundary.grants.filter((g) => g.access === "write").map((g) => `${g.role}\u0000${g.schema}`));
  for (const schema of boundary.schemas) {
    if (schema.kind !== "developer") continue;
    const expected = schema.developer === undefined ? undefined : developerRole.get(schema.developer);
    // A restricted copy is the provisioner's (D5 says why); its developer's role creates in it by a write grant instead.
    if (schema.restricted && schema.owner === null) {
      if (expected === undefined || !writeGrant.has(`${expected}\u0000${schema.name}`))
        flag("D4", schema.name, `developer schema ${schema.name} is a restricted copy owned by the provisioner, but ${expected ?? `the role of ${schema.developer ?? "its developer"}`} has no write on it. Grant its developer's role write (USAGE and CREATE)`);
      continue;
    }
    if (schema.owner !== expected || expected === undefined)
      flag("D4", schema.name, `developer schema ${schema.name} is owned by ${schema.owner ?? "the provisioner"}, not by ${expected ?? `the role of ${schema.developer ?? "its developer"}`}. Make the developer's role its owner`);
  }
  const othersWrite = (developer: string | undefined, path: AccessPath): Schema | undefined => {
    const target = path.access === "write" ? developerSchema(path.schema) : undefined;
    return target !== undefined && target.developer !== developer ? target : undefined;
  };
  for (const role of boundary.roles) {
    if (role.kind !== "developer") continue;
    for (const path of access.accessOf(role.name)) {
      const target = othersWrite(role.of, path);
      // The role owning the schema itself is the owner check's finding above.
      if (target === undefined || (path.source === "owner" && path.via.length === 0)) continue;
      flag("D4", target.name, `${role.name} can write ${target.name}, which belongs to ${target.developer ?? "another developer"}, ${path.via.length === 0 ? "by a direct grant" : how(path)}. Remove it: developers write only to their own schemas`);
    }
  }
  for (const path of access.paths()) {
    const who = principal.get(path.principal);
    if (who?.kind !== "developer") continue;
    // Paths through the developer's own role are the role's findings above, and owning a schema the owner check's.
    if (path.source !== "public" && path.via[0] === developerRole.get(who.name)) continue;
    if (path.source === "owner" && path.via.length === 0) continue;
    const target = othersWrite(who.name, path);
    if (target === undefined) continue;
    flag("D4", target.name, `${who.name} can write ${target.name}, which belongs to ${target.developer ?? "another developer"}, ${how(path)}. Remove it: developers write only to their own schemas`);
  }

  // D5: whoever can read a restricted prod schema or a developer's copy of it, by any path, is one of the domain's
  // listed readers or a prod account; and no role owns a copy, since an owner can grant USAGE on it to anyone.
  const restricted = boundary.schemas.filter((s) => isProd(s.name) && s.restricted);
  const readersOf = new Map(restricted.map((s) => [s.domain, s.readers ?? []]));
  const copies = boundary.schemas.filter((s) => s.kind === "developer" && readersOf.has(s.domain));
  for (const copy of copies) {
    if (copy.owner !== null)
      flag("D5", copy.name, `${copy.owner} owns ${copy.name}, a developer copy of restricted domain ${copy.domain}; an owner can grant USAGE on it, and SELECT on what it holds, to anyone. Leave it to the provisioner and grant the developer's role write (USAGE and CREATE)`);
    if (!copy.restricted)
      flag("D5", copy.name, `${copy.name} holds a copy of restricted domain ${copy.domain} but is not marked restricted. Mark it restricted`);
  }
  // CI schemas of a restricted domain the CI role reads are copies too: the provisioner's, or a CI run could share them.
  const { creator, restrictedCopies } = boundary.ciSchemas;
  const ciReads = new Set(access.accessOf(creator).map((p) => p.schema));
  for (const schema of restricted)
    if (ciReads.has(schema.name) && !restrictedCopies.includes(schema.domain))
      flag("D5", schema.name, `${creator} reads restricted prod schema ${schema.name}, but its CI schemas of domain ${schema.domain} would be its own; an owner can grant USAGE on them to anyone. Make them restricted copies, owned by the provisioner`);
  if (restricted.length > 0) {
    const pathsOn = new Map<string, AccessPath[]>();
    for (const path of access.paths()) {
      const on = pathsOn.get(path.schema);
      if (on) on.push(path);
      else pathsOn.set(path.schema, [path]);
    }
    for (const schema of [...restricted, ...copies]) {
      const listed = new Set(readersOf.get(schema.domain) ?? []);
      const readers = listed.size > 0 ? [...listed].join(", ") : "none";
      const what = schema.kind === "prod" ? `restricted prod schema ${schema.name}` : `${schema.name}, a developer copy of restricted domain ${schema.domain},`;
      for (const path of pathsOn.get(schema.name) ?? []) {
        if (isProdAccount(path.principal)) continue;
        const kind = principal.get(path.principal);
        if ((kind?.kind === "developer" || kind?.purpose === "ci") && listed.has(path.principal)) continue;
        flag("D5", schema.name, `${path.principal} can read ${what} ${how(path)} but is not one of its readers (${readers}). Remove that access or add ${path.principal} to the domain's readers`);
      }
    }
  }
  return violations;
}
