import type pg from "pg";
import type { Boundary } from "../boundary/model";
import { declaredWriters } from "./declared";
import { PROD_SCHEMA_PREFIX, PROD_WRITER } from "../roster/naming";
import { readCatalog, type Catalog, type CatalogPath, type MembershipRules, type Power } from "./live-catalog";
import { looksLikePrefixed } from "./lookalike";
import { classifyReads, guardedPattern, type LiveReads } from "./live-read";
import { CI_FUNCTION_SIGNATURE, readReadCatalog, type ReadCatalog } from "./live-read-catalog";

export type { CatalogPath, MembershipRules, Power, Reach } from "./live-catalog";

// "Who can write to prod?" answered from the live catalog, each answer compared with the declared boundary:
// declared writers are fine, the provisioner and the installation's superuser are admin paths, the rest is drift.

export interface LiveAuditOptions {
  /** The role that runs `pulumi up`; default: the role the audit connects as. */
  provisioner?: string;
  /** Which membership rules to apply; "auto" follows the server's version. Tests use the others on one server. */
  rules?: MembershipRules;
  /** Where the catalog was read, already masked, for the report. */
  target?: string;
  /** SECURITY DEFINER functions trusted when the provisioner owns them; default DECLARED_FUNCTIONS. */
  declaredFunctions?: readonly string[];
}

/** The program's own SECURITY DEFINER functions (platforms/postgres; a test keeps this list equal to what it registers):
 *  CI creates its schemas only through ci.create_schema. Named here so the audit does not load Pulumi to start. */
export const DECLARED_FUNCTIONS: readonly string[] = [CI_FUNCTION_SIGNATURE];

/** declared: the boundary grants it; admin: the provisioner or the bootstrap superuser; drift: anything else. */
export type PathStatus = "declared" | "admin" | "drift";

export interface LiveWritePath extends CatalogPath {
  status: PathStatus;
  /** Why the status, in a few words: "declared chain", "provisioner", "not in the boundary". */
  because: string;
  /** Set when nobody can use the path today but it is one step away: future tables only, a role nobody logs in as. */
  latent?: string;
}

/** The provisioner named on the command line or in the stack config is no role of the database's cluster. */
export class UnknownProvisionerError extends Error {}

export interface LiveSchemaWriters {
  schema: string;
  /** False for a prod_ schema the roster does not declare. */
  declared: boolean;
  domain?: string;
  restricted?: boolean;
  owner: string;
  writers: LiveWritePath[];
}

export interface LiveAudit {
  source: "live";
  /** The masked connection string. */
  target?: string;
  database: string;
  serverVersion: string;
  membershipRules: "16+" | "pre-16";
  provisioner: string;
  bootstrapSuperuser: string;
  /** SECURITY DEFINER functions not followed as write paths: the program declares them and the provisioner owns them. */
  declaredFunctions: readonly string[];
  schemas: LiveSchemaWriters[];
  /** Prod schemas the boundary declares that the database lacks. */
  missingSchemas: string[];
  /** prod_ schemas in the database that the roster does not declare. */
  undeclaredSchemas: string[];
  /** Schemas whose names read as prod_ names but are not (case, whitespace, look-alike letters): drift, shown quoted. */
  lookalikeSchemas: { schema: string; readsAs: string }[];
  /** Who can read restricted data (D5), what PUBLIC holds on prod (D3), and whether the machinery works. */
  reads: LiveReads;
  /** Write drift: drift paths plus missing, undeclared and look-alike schemas. */
  writeDrift: number;
  /** Write drift plus read drift: anything here makes the command exit 1. */
  drift: number;
}

/** Powers no roster ever grants: holding one is drift for anyone but an admin path. */
const NEVER_DECLARED: ReadonlySet<Power> = new Set<Power>([
  "superuser", "schema owner", "database owner", "pg_write_all_data", "pg_execute_server_program", "pg_write_server_files",
  "pg_read_server_files", "pg_maintain", "event trigger function", "writes through a view or rule", "owns what prod depends on",
  "CREATE on database", "ADMIN on a writer role",
]);

/** Why a path nobody uses today still counts: it is one step from being used. */
export function latentReason(path: Pick<CatalogPath, "power" | "principal" | "login">): string | undefined {
  if (path.power === "default privilege") return "latent: only objects created later";
  if (!path.login && path.principal !== "PUBLIC") return "latent: nobody logs in as this role";
  return undefined;
}

const key = (chain: readonly string[]): string => chain.join("\u0000");

/** Per prod schema, the role chains (in PostgreSQL names) the boundary declares as writers, and each of their tails:
 *  [svc_prod, prod_writer] declares prod_writer writing on its own as well. */
function declaredChains(boundary: Boundary): Map<string, Set<string>> {
  const login = new Map(boundary.principals.map((p) => [p.name, p.logins.postgres]));
  const chains = new Map<string, Set<string>>();
  for (const schema of declaredWriters(boundary).schemas) {
    const set = new Set<string>();
    for (const w of schema.writers) {
      if (w.admin || w.kind === "public") continue;
      const names = w.chain.map((name, i) => (i === 0 ? (login.get(name) ?? name) : name));
      for (let i = 0; i < names.length; i++) set.add(key(names.slice(i)));
    }
    chains.set(schema.schema, set);
  }
  return chains;
}

export function classifyCatalog(catalog: Catalog, readCatalog: ReadCatalog, boundary: Boundary, options: LiveAuditOptions = {}): LiveAudit {
  const provisioner = options.provisioner ?? catalog.sessionUser;
  if (!catalog.provisionerExists)
    throw new UnknownProvisionerError(`the provisioner "${provisioner}" is not a role of the server holding ${catalog.database}: pass the role that runs pulumi up with --provisioner, or fix postgresql:username in the stack config`);
  const admins = new Map([[catalog.bootstrapSuperuser, "bootstrap superuser"], [provisioner, "provisioner"]]);
  if (provisioner === catalog.bootstrapSuperuser) admins.set(provisioner, "provisioner, bootstrap superuser");
  // The README allows the database to belong to a group role the provisioner is a member of.
  if (catalog.provisionerInDatabaseOwner && !admins.has(catalog.databaseOwner))
    admins.set(catalog.databaseOwner, "database owner, a group the provisioner belongs to");

  const chains = declaredChains(boundary);
  // D1 is the same for every prod schema: an undeclared one is judged against the writers any prod schema has.
  const anyProd = new Set([...chains.values()].flatMap((set) => [...set]));
  const declared = new Map(boundary.schemas.filter((s) => s.kind === "prod").map((s) => [s.name, s]));

  const judge = (path: CatalogPath): Omit<LiveWritePath, keyof CatalogPath | "latent"> => {
    const admin = admins.get(path.principal);
    if (admin !== undefined) return { status: "admin", because: admin };
    if (path.principal === "PUBLIC") return { status: "drift", because: "PUBLIC holds it: every role can" };
    // On PostgreSQL the program makes prod_writer the owner of every prod schema: through a declared chain, that is declared.
    const writerOwns = path.power === "schema owner" && path.chain.at(-1) === PROD_WRITER;
    if (NEVER_DECLARED.has(path.power) && !writerOwns) return { status: "drift", because: `${path.power} is never declared` };
    const allowed = chains.get(path.schema) ?? anyProd;
    if (allowed.has(key(path.chain))) return { status: "declared", because: "declared chain" };
    return { status: "drift", because: "not in the boundary" };
  };
  const classify = (path: CatalogPath): LiveWritePath => {
    const verdict = judge(path);
    const latent = verdict.status === "drift" ? latentReason(path) : undefined;
    return { ...path, ...verdict, ...(latent === undefined ? {} : { latent }) };
  };

  const bySchema = new Map<string, LiveWritePath[]>();
  for (const path of catalog.paths) {
    const list = bySchema.get(path.schema) ?? [];
    list.push(classify(path));
    bySchema.set(path.schema, list);
  }

  const present = new Set(catalog.prodSchemas.map((s) => s.schema));
  const schemas = catalog.prodSchemas.map(({ schema, owner }): LiveSchemaWriters => {
    const d = declared.get(schema);
    return {
      schema,
      declared: d !== undefined,
      ...(d === undefined ? {} : { domain: d.domain, restricted: d.restricted }),
      owner,
      writers: bySchema.get(schema) ?? [],
    };
  });
  const missingSchemas = [...declared.keys()].filter((name) => !present.has(name)).sort();
  const undeclaredSchemas = schemas.filter((s) => !s.declared).map((s) => s.schema);
  const lookalikeSchemas = catalog.unusualSchemas.flatMap((schema) => {
    const readsAs = looksLikePrefixed(schema, PROD_SCHEMA_PREFIX);
    return readsAs === undefined ? [] : [{ schema, readsAs }];
  });
  const driftPaths = schemas.reduce((n, s) => n + s.writers.filter((w) => w.status === "drift").length, 0);
  const writeDrift = driftPaths + missingSchemas.length + undeclaredSchemas.length + lookalikeSchemas.length;
  const reads = classifyReads(readCatalog, catalog.publicGrants, boundary, { pattern: guardedPattern(boundary), admins, provisioner });

  return {
    source: "live",
    ...(options.target === undefined ? {} : { target: options.target }),
    database: catalog.database,
    serverVersion: catalog.serverVersion,
    membershipRules: catalog.grantOptions ? "16+" : "pre-16",
    provisioner,
    bootstrapSuperuser: catalog.bootstrapSuperuser,
    declaredFunctions: options.declaredFunctions ?? DECLARED_FUNCTIONS,
    schemas,
    missingSchemas,
    undeclaredSchemas,
    lookalikeSchemas,
    reads,
    writeDrift,
    drift: writeDrift + reads.drift,
  };
}

/** Reads the connected database's catalog (two queries: writes, then reads, PUBLIC and machinery) and compares every
 *  path with the boundary. */
export async function auditLive(client: pg.Client, boundary: Boundary, options: LiveAuditOptions = {}): Promise<LiveAudit> {
  const common = {
    ...(options.rules === undefined ? {} : { rules: options.rules }),
    ...(options.provisioner === undefined ? {} : { provisioner: options.provisioner }),
    declaredFunctions: options.declaredFunctions ?? DECLARED_FUNCTIONS,
  };
  const catalog = await readCatalog(client, common);
  const pattern = guardedPattern(boundary);
  const reads = await readReadCatalog(client, {
    ...common,
    ...(pattern === undefined ? {} : { guardedPattern: pattern }),
    ciBuilder: boundary.ciSchemas.creator,
    ciFunction: CI_FUNCTION_SIGNATURE,
    managedRoles: [...boundary.roles.map((r) => r.name), ...boundary.principals.map((p) => p.logins.postgres)],
    developerSchemas: boundary.schemas.filter((s) => s.kind === "developer").map((s) => ({ schema: s.name, owner: s.owner })),
  });
  return classifyCatalog(catalog, reads, boundary, options);
}
