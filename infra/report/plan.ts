import { accessPaths, type AccessPath } from "../boundary/access";
import type { Boundary, Principal, RoleName, SchemaName } from "../boundary/model";
import type { Violation } from "../boundary/rules";
import { denyRuleResult, type DenyRuleResult } from "./deny-rules";
import type { ManagedResources } from "./resources";

// What `plan` reports: the boundary as a reviewer reads it. This object is also the `--json` output.

/** One way a principal reaches access on a schema, as the report shows it. */
export interface AccessHolder {
  principal: string;
  /** Roles walked to the one holding the access: from the principal, or from PUBLIC when the source is "public". */
  via: RoleName[];
  source: AccessPath["source"];
}

export interface DeveloperPlan {
  name: string;
  email: string | null;
  /** The developer's own role (dev_<name>), which owns their schemas. */
  role: RoleName | null;
  logins: Principal["logins"];
  /** The developer's personal schemas, <dev>_<domain>. */
  schemas: SchemaName[];
  /** Restricted prod schemas the developer can read: the reads a reviewer checks by name. */
  restrictedReads: SchemaName[];
}

export interface ProdSchemaPlan {
  schema: SchemaName;
  domain: string;
  restricted: boolean;
  /** The owning role; null is the provisioning identity that runs `pulumi up` (an admin path). */
  owner: RoleName | null;
  writers: AccessHolder[];
  /** Read-only access; writers can read too and are not repeated here. */
  readers: AccessHolder[];
}

export interface ServiceAccountPlan {
  name: string;
  purpose: "prod" | "ci" | null;
  /** Roles the account is a direct member of. */
  roles: RoleName[];
  logins: Principal["logins"];
  /** Whether an RSA public key is declared for Snowflake key-pair auth. */
  keyPairAuth: boolean;
}

export interface PlanTotals {
  developers: number;
  serviceAccounts: { all: number; prod: number; ci: number };
  prodSchemas: { all: number; restricted: number };
  developerSchemas: number;
  roles: number;
  grants: number;
  memberships: number;
}

export interface PlanReport {
  /** The roster file the boundary was built from. */
  roster: string;
  developers: DeveloperPlan[];
  prodSchemas: ProdSchemaPlan[];
  serviceAccounts: ServiceAccountPlan[];
  /** Throwaway CI schemas: <prefix><run>_<domain>, created at run time by `creator`. `restrictedCopies`: the restricted
   *  domains CI reads (CI schemas the provisioner owns); `refused`: the restricted domains CI gets no schema for. */
  ciSchemas: { creator: RoleName; prefix: string; restrictedCopies: string[]; refused: string[] };
  totals: PlanTotals;
  /** The resources `pulumi up` would manage for the configured platforms. */
  resources: ManagedResources;
  denyRules: DenyRuleResult;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

const holder = (p: AccessPath): AccessHolder => ({ principal: p.principal, via: p.via, source: p.source });

export function planReport(boundary: Boundary, violations: readonly Violation[], resources: ManagedResources, roster = "team.yaml"): PlanReport {
  const paths = accessPaths(boundary);
  const pathsOn = groupBy(paths, (p) => p.schema);
  const prodSchemas = boundary.schemas.filter((s) => s.kind === "prod");
  const restricted = new Set(prodSchemas.filter((s) => s.restricted).map((s) => s.name));
  const restrictedReadsOf = new Map<string, Set<SchemaName>>();
  for (const schema of restricted)
    for (const p of pathsOn.get(schema) ?? []) restrictedReadsOf.set(p.principal, (restrictedReadsOf.get(p.principal) ?? new Set<SchemaName>()).add(schema));
  const schemasOf = groupBy(boundary.schemas.filter((s) => s.kind === "developer"), (s) => s.developer ?? "");
  const roleOf = new Map(boundary.roles.filter((r) => r.kind === "developer" && r.of !== undefined).map((r) => [r.of!, r.name]));

  const developers = boundary.principals.filter((p) => p.kind === "developer");
  const services = boundary.principals.filter((p) => p.kind === "service");

  return {
    roster,
    developers: developers.map((d) => ({
      name: d.name,
      email: d.email ?? null,
      role: roleOf.get(d.name) ?? null,
      logins: d.logins,
      schemas: (schemasOf.get(d.name) ?? []).map((s) => s.name),
      restrictedReads: [...(restrictedReadsOf.get(d.name) ?? [])].sort(),
    })),
    prodSchemas: prodSchemas.map((s) => {
      const on = pathsOn.get(s.name) ?? [];
      const writers = on.filter((p) => p.access === "write");
      const writerNames = new Set(writers.map((p) => p.principal));
      return {
        schema: s.name,
        domain: s.domain,
        restricted: s.restricted,
        owner: s.owner,
        writers: writers.map(holder),
        readers: on.filter((p) => p.access === "read" && !writerNames.has(p.principal)).map(holder),
      };
    }),
    serviceAccounts: services.map((a) => ({
      name: a.name,
      purpose: a.purpose ?? null,
      roles: boundary.memberships.filter((m) => m.member === a.name).map((m) => m.role),
      logins: a.logins,
      keyPairAuth: a.rsaPublicKey !== undefined,
    })),
    ciSchemas: {
      ...boundary.ciSchemas,
      refused: boundary.schemas.filter((s) => s.kind === "prod" && s.restricted && !boundary.ciSchemas.restrictedCopies.includes(s.domain)).map((s) => s.domain),
    },
    totals: {
      developers: developers.length,
      serviceAccounts: {
        all: services.length,
        prod: services.filter((a) => a.purpose === "prod").length,
        ci: services.filter((a) => a.purpose === "ci").length,
      },
      prodSchemas: { all: prodSchemas.length, restricted: restricted.size },
      developerSchemas: boundary.schemas.filter((s) => s.kind === "developer").length,
      roles: boundary.roles.length,
      grants: boundary.grants.length,
      memberships: boundary.memberships.length,
    },
    resources,
    denyRules: denyRuleResult(violations),
  };
}
