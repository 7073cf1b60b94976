import type { Boundary } from "../boundary/model";
import { CI_SCHEMA_PREFIX, PROD_SCHEMA_PREFIX } from "../roster/naming";
import type { PublicGrant } from "./live-catalog";
import type { ReadCatalog, ReadCatalogPath, ReadPower, MachineryHealth } from "./live-read-catalog";
import type { PathStatus } from "./live";

// "Who can read restricted data?" answered from the live catalog (D5), with PUBLIC's privileges on prod (D3) and the
// health of the program's machinery: each compared with the declared boundary, labelled as the write audit labels.

/** What kind of schema holds the restricted data: the prod schema itself, a developer's copy, or a CI one. */
export type GuardedKind = "prod" | "developer" | "ci";

export interface LiveReadPath extends ReadCatalogPath {
  status: PathStatus;
  because: string;
  /** Set when the path reads nothing today but is one step away (no USAGE on the schema, future tables only, no login). */
  latent?: string;
}

export interface LiveGuardedSchema {
  schema: string;
  kind: GuardedKind;
  domain: string;
  owner: string;
  /** Every path to the data; USAGE alone is left out (it reads nothing), but it decides whether a path is latent. */
  readers: LiveReadPath[];
}

export interface MachineryCheck {
  check: string;
  ok: boolean;
  detail: string;
}

export interface LiveReads {
  schemas: LiveGuardedSchema[];
  /** D3: every one is drift. */
  publicGrants: PublicGrant[];
  machinery: MachineryCheck[];
  /** Drift read paths, PUBLIC grants and failed machinery checks. */
  drift: number;
}

/** Powers that read every table of the schema without any other grant. */
const SELF_SUFFICIENT: ReadonlySet<ReadPower> = new Set<ReadPower>(["superuser", "schema owner", "pg_read_all_data"]);

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The restricted domains' data lives in prod_<d>, <dev>_<d> and ci_<run>_<d>: one regular expression for the catalog. */
export function guardedPattern(boundary: Boundary): string | undefined {
  const domains = [...new Set(boundary.schemas.filter((s) => s.kind === "prod" && s.restricted).map((s) => s.domain))].sort();
  if (domains.length === 0) return undefined;
  const prefix = escapeRegex(PROD_SCHEMA_PREFIX.slice(0, -1));
  const ci = escapeRegex(CI_SCHEMA_PREFIX);
  // A run with _ is no longer made, but CI schemas made before may hold one: the audit still looks at them.
  return `^(${prefix}|[a-z][a-z0-9]*|${ci}[a-z0-9][a-z0-9_]*)_(${domains.map(escapeRegex).join("|")})$`;
}

/** Which restricted domain a guarded schema holds, and as what. */
function guardedKind(schema: string, pattern: string): { kind: GuardedKind; domain: string } {
  const match = new RegExp(pattern).exec(schema);
  const head = match?.[1] ?? "";
  const domain = match?.[2] ?? "";
  if (`${head}_` === PROD_SCHEMA_PREFIX) return { kind: "prod", domain };
  return { kind: head.startsWith(CI_SCHEMA_PREFIX) ? "ci" : "developer", domain };
}

/** Per restricted domain, every PostgreSQL role and login the boundary lets read it: its reader and writer roles and
 *  whoever holds them, through any chain of declared memberships. */
export function declaredReaders(boundary: Boundary): Map<string, Set<string>> {
  const login = new Map(boundary.principals.map((p) => [p.name, p.logins.postgres]));
  const membersOf = new Map<string, string[]>();
  for (const m of boundary.memberships) membersOf.set(m.role, [...(membersOf.get(m.role) ?? []), m.member]);
  const readers = new Map<string, Set<string>>();
  for (const schema of boundary.schemas.filter((s) => s.kind === "prod" && s.restricted)) {
    const found = new Set<string>();
    const queue = boundary.grants.filter((g) => g.schema === schema.name).map((g) => g.role);
    while (queue.length > 0) {
      const role = queue.pop()!;
      if (found.has(role)) continue;
      found.add(role);
      queue.push(...(membersOf.get(role) ?? []));
    }
    readers.set(schema.domain, new Set([...found].map((name) => login.get(name) ?? name)));
  }
  return readers;
}

const key = (principal: string, schema: string): string => `${principal}\u0000${schema}`;

export function classifyReads(
  catalog: ReadCatalog,
  publicGrants: readonly PublicGrant[],
  boundary: Boundary,
  context: { pattern: string | undefined; admins: ReadonlyMap<string, string>; provisioner: string },
): LiveReads {
  const readers = declaredReaders(boundary);
  // Who has USAGE on which schema (PUBLIC's counts for everyone): a SELECT without it reads nothing yet.
  const usage = new Set(catalog.paths.filter((p) => p.power === "USAGE on schema").map((p) => key(p.principal, p.privilege ?? "")));
  const hasUsage = (principal: string, schema: string) => usage.has(key(principal, schema)) || usage.has(key("PUBLIC", schema));

  const judge = (path: ReadCatalogPath, domain: string): Pick<LiveReadPath, "status" | "because"> => {
    const admin = context.admins.get(path.principal);
    if (admin !== undefined) return { status: "admin", because: admin };
    if (path.principal === "PUBLIC") return { status: "drift", because: "PUBLIC holds it: every role can" };
    if (readers.get(domain)?.has(path.principal)) return { status: "declared", because: "a listed reader" };
    return { status: "drift", because: "not a listed reader" };
  };
  const latentReason = (path: ReadCatalogPath, schema: string): string | undefined => {
    if (path.power === "default privilege") return "latent: only tables created later";
    const needs = path.power === "copy owner" || path.power === "copy SELECT" ? (path.privilege ?? "") : schema;
    if (!SELF_SUFFICIENT.has(path.power) && !hasUsage(path.principal, needs)) return `latent: no USAGE on ${needs}`;
    if (!path.login && path.principal !== "PUBLIC") return "latent: nobody logs in as this role";
    return undefined;
  };

  const schemas = catalog.guardedSchemas.map(({ schema, owner }): LiveGuardedSchema => {
    const { kind, domain } = guardedKind(schema, context.pattern ?? "");
    const paths = catalog.paths.filter((p) => p.schema === schema && p.power !== "USAGE on schema");
    return {
      schema, kind, domain, owner,
      readers: paths.map((path) => {
        const verdict = judge(path, domain);
        const latent = verdict.status === "drift" ? latentReason(path, schema) : undefined;
        return { ...path, ...verdict, ...(latent === undefined ? {} : { latent }) };
      }),
    };
  });
  const machinery = machineryChecks(catalog.health, context.provisioner);
  const drift = schemas.reduce((n, s) => n + s.readers.filter((r) => r.status === "drift").length, 0) +
    publicGrants.length + machinery.filter((c) => !c.ok).length;
  return { schemas, publicGrants: [...publicGrants], machinery, drift };
}

/** The program's own machinery: CI creates its schemas through ci.create_schema, which must run as the provisioner
 *  and grants it the CI role for its CREATE SCHEMA … AUTHORIZATION, which takes the provisioner being able to. */
export function machineryChecks(health: MachineryHealth, provisioner: string): MachineryCheck[] {
  return [
    {
      check: `the provisioner can grant itself ${health.ciBuilder}`,
      ok: health.provisionerCanGrantCiBuilder === true,
      detail: !health.ciBuilderExists
        ? `${health.ciBuilder} does not exist: run pulumi up`
        : health.provisionerCanGrantCiBuilder
          ? `so ci.create_schema, running as ${provisioner}, can create CI schemas for ${health.ciBuilder}`
          : `${provisioner} cannot grant itself ${health.ciBuilder}: ci.create_schema fails. On PostgreSQL 16+ the provisioner must hold ${health.ciBuilder} WITH ADMIN OPTION (it has it for roles it created), before 16 it needs CREATEROLE; have an admin run GRANT ${health.ciBuilder} TO ${provisioner} WITH ADMIN OPTION`,
    },
    {
      check: "ci.create_schema belongs to the provisioner",
      ok: health.ciFunctionOwner === provisioner,
      detail: health.ciFunctionOwner === null
        ? "ci.create_schema(text, text) is missing: run pulumi up"
        : health.ciFunctionOwner === provisioner
          ? `owned by ${provisioner}`
          : `owned by ${health.ciFunctionOwner}, not ${provisioner}: it runs with that role's rights`,
    },
    {
      check: "the provisioner can manage every declared role",
      ok: health.rolesWithoutAdmin.length === 0,
      detail: health.rolesWithoutAdmin.length === 0
        ? `${provisioner} may grant, alter and drop each (PostgreSQL 16+: ADMIN on it, which its creator gets; before 16: CREATEROLE)`
        : `${provisioner} cannot grant, alter or drop ${health.rolesWithoutAdmin.join(", ")}: on PostgreSQL 16+ that takes ADMIN on the role, which only its creator gets; pulumi up fails on them. Have an admin run GRANT <role> TO ${provisioner} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE for each`,
    },
    {
      check: "developer schemas belong to their developer's role, restricted copies to the provisioner",
      ok: health.misownedDeveloperSchemas.length === 0,
      detail: health.misownedDeveloperSchemas.length === 0
        ? `each is owned by dev_<developer>, a copy of a restricted domain by ${provisioner} (so nobody can share it)`
        : `${health.misownedDeveloperSchemas.map((d) => `${d.schema} is owned by ${d.owner}, not ${d.expected}${d.expected === provisioner ? " (a restricted copy: its owner can grant USAGE on it to anyone)" : ""}`).join("; ")}: pulumi up cannot give it back (the provider's ALTER SCHEMA … OWNER TO runs without its self-grant). Have the owner or an admin run ${health.misownedDeveloperSchemas.map((d) => `ALTER SCHEMA ${d.schema} OWNER TO ${d.expected}`).join("; ")}`,
    },
    {
      check: "PUBLIC cannot create in schema public",
      ok: !health.publicCreatesInPublic,
      detail: health.publicCreatesInPublic
        ? `every role may create objects in public, which is on every default search_path, so a look-alike function there runs as whoever calls it unqualified. On PostgreSQL 14 have an admin run ALTER SCHEMA public OWNER TO ${provisioner} (pulumi up --refresh then revokes it), or have public's owner run REVOKE CREATE ON SCHEMA public FROM PUBLIC`
        : "PUBLIC holds at most USAGE on public",
    },
    {
      check: "every user mapping can be followed",
      ok: health.hiddenUserMappings.length === 0,
      detail: health.hiddenUserMappings.length === 0
        ? "no user mapping hides its options from the audit"
        : `${health.hiddenUserMappings.join(", ")}: only a superuser or the mapped user may read whom a mapping logs in as, so a path to prod through it cannot be ruled out; run the audit as a superuser, or drop the mapping`,
    },
  ];
}
