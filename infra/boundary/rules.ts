import { PROD_WRITER, restrictedReaderRoleName } from "../roster/naming";
import { accessPaths, reachableRoles } from "./access";
import { PUBLIC, type Boundary } from "./model";

// The deny rules D1–D5 of DESIGN.md, checked on a boundary before anything reaches a warehouse.

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
  D4: "a developer role owns exactly its developer's schemas and writes nowhere else",
  D5: "a restricted prod schema is readable only by its listed readers and the writer",
};

export function checkBoundary(boundary: Boundary): Violation[] {
  const violations: Violation[] = [];
  const flag = (rule: Rule, subject: string, message: string) => violations.push({ rule, subject, message });
  const prodSchemas = boundary.schemas.filter((s) => s.kind === "prod");
  const principal = new Map(boundary.principals.map((p) => [p.name, p]));
  const role = new Map(boundary.roles.map((r) => [r.name, r]));

  for (const schema of prodSchemas) {
    if (schema.owner !== null && schema.owner !== PROD_WRITER)
      flag("D1", schema.name, `${schema.owner} owns prod schema ${schema.name}; an owner can write everything in it. Leave prod schemas to the provisioner and grant write to ${PROD_WRITER} only`);
    for (const grant of boundary.grants)
      if (grant.schema === schema.name && grant.access === "write" && grant.role !== PROD_WRITER && grant.role !== PUBLIC)
        flag("D1", schema.name, `${grant.role} has write on prod schema ${schema.name}. Remove the grant: only ${PROD_WRITER} may write to prod schemas`);
    for (const grant of boundary.grants)
      if (grant.schema === schema.name && grant.role === PUBLIC)
        flag("D3", schema.name, `PUBLIC has ${grant.access} on prod schema ${schema.name}, so every login would. Remove the grant; prod schemas revoke everything from PUBLIC`);
  }

  for (const m of boundary.memberships) {
    if (m.role !== PROD_WRITER) continue;
    const holder = principal.get(m.member);
    if (holder?.kind !== "service" || holder.purpose !== "prod")
      flag("D2", m.member, `${m.member} is a member of ${PROD_WRITER}, which only purpose: prod service accounts may hold. Remove the membership`);
  }
  for (const p of boundary.principals) {
    const chain = reachableRoles(boundary, p.name).get(PROD_WRITER);
    if (chain && chain.length > 1 && !(p.kind === "service" && p.purpose === "prod"))
      flag("D2", p.name, `${p.name} reaches ${PROD_WRITER} through ${chain.join(" → ")}. Break that chain of memberships`);
  }

  for (const schema of boundary.schemas.filter((s) => s.kind === "developer")) {
    const expected = boundary.roles.find((r) => r.kind === "developer" && r.of === schema.developer)?.name;
    if (schema.owner !== expected)
      flag("D4", schema.name, `developer schema ${schema.name} is owned by ${schema.owner ?? "the provisioner"}, not by ${expected ?? `the role of ${schema.developer}`}. Make the developer's role its owner`);
  }
  for (const grant of boundary.grants) {
    const grantee = role.get(grant.role);
    if (grantee?.kind !== "developer" || grant.access !== "write") continue;
    const target = boundary.schemas.find((s) => s.name === grant.schema);
    if (target?.kind === "developer" && target.developer !== grantee.of)
      flag("D4", grant.schema, `${grant.role} has write on ${grant.schema}, which belongs to ${target.developer}. Remove the grant: developers write only to their own schemas`);
  }

  const paths = accessPaths(boundary);
  for (const schema of prodSchemas.filter((s) => s.restricted)) {
    const readerRole = restrictedReaderRoleName(schema.domain);
    const allowed = new Set(boundary.memberships.filter((m) => m.role === readerRole).map((m) => m.member));
    const listed = new Set([...allowed].map((member) => role.get(member)?.of ?? member));
    for (const path of paths.filter((p) => p.schema === schema.name)) {
      const who = principal.get(path.principal);
      const isWriter = who?.kind === "service" && who.purpose === "prod" && path.via.includes(PROD_WRITER);
      if (isWriter || (who?.kind === "developer" && listed.has(who.name) && path.via.includes(readerRole))) continue;
      const how = path.source === "public" ? "through PUBLIC" : path.via.length > 0 ? `through ${path.via.join(" → ")}` : "directly";
      flag("D5", schema.name, `${path.principal} can read restricted prod schema ${schema.name} ${how} but is not one of its readers. Remove that access or add ${path.principal} to the domain's readers`);
    }
  }
  return violations;
}
