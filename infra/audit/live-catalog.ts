import type pg from "pg";
import { POSTGRES_WRITE_PRIVILEGES, sqlPrivilegeList } from "../platforms/postgres/privileges";
import { PROD_SCHEMA_PREFIX, likePrefix } from "../roster/naming";

// The live audit's one catalog query: every way any role (or PUBLIC) can write to each prod_ schema, in a single
// statement, so the audit costs one round trip however many roles and tables the database holds.

/** What a role holds on a prod schema that lets it write there (or, for the database owner, destroy it). */
export type Power =
  | "superuser"
  | "schema owner"
  | "object owner"
  | "CREATE on schema"
  | "table privilege"
  | "column privilege"
  | "default privilege"
  | "pg_write_all_data"
  | "database owner";

/** How the principal comes to use the holder's power: it is the holder, inherits it, can SET ROLE to it, or can grant it to itself. */
export type Reach = "self" | "inherit" | "set" | "admin";

export interface CatalogPath {
  /** The role that can act (a login or not), or "PUBLIC" for every role. */
  principal: string;
  login: boolean;
  superuser: boolean;
  schema: string;
  power: Power;
  /** The privilege for grants (INSERT, CREATE, ...); null for ownership and attributes. */
  privilege: string | null;
  /** Up to three of the objects the power covers, sorted: tables, columns (table.column), functions (name()), future objects. */
  objects: string[];
  objectCount: number;
  /** principal, then each role walked to the holder of the power. */
  chain: string[];
  /** One per step of the chain: "inherits", "SET ROLE", "ADMIN", "CREATEROLE", "executes f(int)". */
  hops: string[];
  reach: Reach;
}

export interface Catalog {
  serverVersion: string;
  serverVersionNum: number;
  /** True when pg_auth_members' per-grant INHERIT and SET options decide (PostgreSQL 16+); false: the pre-16 rolinherit rule. */
  grantOptions: boolean;
  database: string;
  databaseOwner: string;
  sessionUser: string;
  /** The role created by initdb (OID 10): the installation's own superuser. */
  bootstrapSuperuser: string;
  prodSchemas: { schema: string; owner: string }[];
  paths: CatalogPath[];
}

export type MembershipRules = "auto" | "16+" | "pre-16";

// The write privileges the catalog can show, as SQL lists, from the one definition the interpreter and the pack share.
const TABLE_WRITES = sqlPrivilegeList(POSTGRES_WRITE_PRIVILEGES.table);
const COLUMN_WRITES = sqlPrivilegeList(POSTGRES_WRITE_PRIVILEGES.column);
const SEQUENCE_WRITES = sqlPrivilegeList(POSTGRES_WRITE_PRIVILEGES.sequence);
const SCHEMA_WRITES = sqlPrivilegeList(POSTGRES_WRITE_PRIVILEGES.schema);

/**
 * $1: null to follow the server's version, true for the 16+ per-grant options, false for the pre-16 rolinherit rule.
 * $2: the LIKE pattern of prod schema names.
 * $3: signatures (schema.name(argtypes)) of the program's own SECURITY DEFINER functions, trusted when $4 owns them.
 * $4: the provisioner's role name; null for the connecting role.
 * Reads only catalogs that every role may read (pg_roles, not pg_authid), so the auditor needs no privileges.
 */
export const CATALOG_SQL = `
WITH RECURSIVE
settings AS (
  SELECT current_setting('server_version_num')::int AS version_num,
         coalesce($1::boolean, current_setting('server_version_num')::int >= 160000) AS grant_options
),
roles AS (
  SELECT oid, rolname::text AS name, rolsuper, rolinherit, rolcreaterole, rolcanlogin FROM pg_roles
  UNION ALL SELECT 0::oid, 'PUBLIC', false, true, false, false
),
prod AS (
  SELECT oid, nspname::text AS name, nspowner, nspacl FROM pg_namespace WHERE nspname LIKE $2
),
db AS (
  SELECT datdba FROM pg_database WHERE datname = current_database()
),
-- Tables, partitioned tables, views, materialized views, sequences, foreign tables, composite types: one scan of pg_class.
relations AS MATERIALIZED (
  SELECT c.oid, c.relname::text AS name, c.relkind, c.relowner, c.relacl, s.oid AS schema
    FROM pg_class c JOIN prod s ON s.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
),
-- Tables share ACLs (one GRANT ... ON ALL TABLES gives thousands the same), so each distinct ACL is exploded once.
write_grants AS MATERIALIZED (
  SELECT acl.relacl, acl.relowner, acl.sequence, a.grantee, a.privilege_type
    FROM (SELECT DISTINCT relacl, relowner, relkind = 'S' AS sequence FROM relations WHERE relacl IS NOT NULL) acl
    CROSS JOIN LATERAL aclexplode(acl.relacl) a
   WHERE a.grantee <> acl.relowner
     AND (NOT acl.sequence AND a.privilege_type IN (${TABLE_WRITES}) OR acl.sequence AND a.privilege_type IN (${SEQUENCE_WRITES}))
),
-- Every power held directly; grantee 0 is PUBLIC. Grants a role makes to itself on what it owns add nothing to ownership.
powers AS (
  -- Not inherited: a superuser role's power goes only to who can become it (SET ROLE), checked below.
  SELECT r.oid AS holder, s.oid AS schema, 'superuser' COLLATE "C" AS power, NULL::text COLLATE "C" AS privilege, NULL::text AS object
    FROM roles r CROSS JOIN prod s WHERE r.rolsuper
  UNION ALL
  SELECT s.nspowner, s.oid, 'schema owner', NULL, NULL FROM prod s
  UNION ALL
  SELECT a.grantee, s.oid, 'CREATE on schema', a.privilege_type, NULL
    FROM prod s CROSS JOIN LATERAL aclexplode(s.nspacl) a
   WHERE a.privilege_type IN (${SCHEMA_WRITES}) AND a.grantee <> s.nspowner
  UNION ALL
  SELECT r.relowner, r.schema, 'object owner', NULL, r.name FROM relations r
  UNION ALL
  SELECT p.proowner, s.oid, 'object owner', NULL, p.proname || '()'
    FROM pg_proc p JOIN prod s ON s.oid = p.pronamespace
  UNION ALL
  -- Domains, enums and ranges: DROP TYPE ... CASCADE drops the prod columns that use them.
  SELECT t.typowner, s.oid, 'object owner', NULL, t.typname::text
    FROM pg_type t JOIN prod s ON s.oid = t.typnamespace
   WHERE t.typtype IN ('d', 'e', 'r')
  UNION ALL
  SELECT g.grantee, r.schema, 'table privilege', g.privilege_type, r.name
    FROM write_grants g JOIN relations r ON r.relacl = g.relacl AND r.relowner = g.relowner AND (r.relkind = 'S') = g.sequence
  UNION ALL
  SELECT a.grantee, r.schema, 'column privilege', a.privilege_type, r.name || '.' || att.attname
    FROM pg_attribute att
    JOIN relations r ON r.oid = att.attrelid
    CROSS JOIN LATERAL aclexplode(att.attacl) a
   WHERE att.attacl IS NOT NULL AND att.attnum > 0 AND NOT att.attisdropped
     AND a.grantee <> r.relowner AND a.privilege_type IN (${COLUMN_WRITES})
  UNION ALL
  -- Only a creator that can create in the schema makes its default privileges real; schema-wide (0) entries count too.
  SELECT a.grantee, s.oid, 'default privilege', a.privilege_type,
         'future ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' ELSE 'sequences' END
           || ' created by ' || creator.name || CASE WHEN d.defaclnamespace = 0 THEN ' in any schema' ELSE '' END
    FROM pg_default_acl d
    JOIN prod s ON d.defaclnamespace IN (0, s.oid)
    JOIN roles creator ON creator.oid = d.defaclrole
    CROSS JOIN LATERAL aclexplode(d.defaclacl) a
   WHERE a.grantee <> d.defaclrole
     AND (d.defaclobjtype = 'r' AND a.privilege_type IN (${TABLE_WRITES})
          OR d.defaclobjtype = 'S' AND a.privilege_type IN (${SEQUENCE_WRITES}))
     AND has_schema_privilege(d.defaclrole, s.oid, 'CREATE')
  UNION ALL
  SELECT r.oid, s.oid, 'pg_write_all_data', NULL, NULL FROM roles r CROSS JOIN prod s WHERE r.name = 'pg_write_all_data'
  UNION ALL
  SELECT db.datdba, s.oid, 'database owner', NULL, NULL FROM db CROSS JOIN prod s
),
held AS (
  SELECT holder, schema, power, privilege,
         -- Byte order (COLLATE "C"): stable everywhere, and far cheaper than the locale's over 10,000 table names.
         coalesce((array_agg(DISTINCT object COLLATE "C" ORDER BY object COLLATE "C") FILTER (WHERE object IS NOT NULL))[1:3], '{}') AS objects,
         count(DISTINCT object COLLATE "C") AS object_count
    FROM powers GROUP BY holder, schema, power, privilege
),
-- Ways from one role to another. inherits/can_set follow the 16+ per-grant options, or before 16 the member's
-- rolinherit (and SET ROLE to any role one is a member of).
edges AS (
  SELECT m.member, m.roleid AS role, target.name AS target_name, target.rolsuper AS target_super,
         CASE WHEN st.grant_options THEN coalesce((to_jsonb(m) ->> 'inherit_option')::boolean, member.rolinherit)
              ELSE member.rolinherit END AS inherits,
         CASE WHEN st.grant_options THEN coalesce((to_jsonb(m) ->> 'set_option')::boolean, true) ELSE true END AS can_set,
         m.admin_option AS admin, 'member' AS via, NULL::text AS detail
    FROM pg_auth_members m
    JOIN roles member ON member.oid = m.member
    JOIN roles target ON target.oid = m.roleid
    CROSS JOIN settings st
  UNION ALL
  -- The database owner is implicitly a member of pg_database_owner.
  SELECT db.datdba, r.oid, r.name, false, true, true, false, 'member', NULL
    FROM db JOIN roles r ON r.name = 'pg_database_owner'
  UNION ALL
  -- EXECUTE on a SECURITY DEFINER function runs it with its owner's privileges; the program's own functions, owned by
  -- the provisioner, do only what their reviewed bodies do.
  SELECT a.grantee, p.proowner, owner.name, false, true, false, false, 'security definer', p.oid::regprocedure::text
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN roles owner ON owner.oid = p.proowner
    CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
   WHERE p.prosecdef AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
     AND NOT (owner.name = coalesce($4, session_user)
              AND format('%s.%s(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes)) = ANY ($3::text[]))
  UNION ALL
  -- Before 16, CREATEROLE could grant any non-superuser role to anyone, itself included.
  SELECT c.oid, t.oid, t.name, false, false, false, true, 'createrole', NULL
    FROM roles c JOIN roles t ON t.oid NOT IN (0, c.oid) AND NOT t.rolsuper CROSS JOIN settings st
   WHERE NOT st.grant_options AND c.rolcreaterole AND NOT c.rolsuper
),
-- Roles that lead to some power: the walk below never leaves them, so it stays small however many readers there are.
useful(oid) AS (
  SELECT holder FROM held
  UNION
  SELECT e.member FROM edges e JOIN useful u ON u.oid = e.role
),
-- kind: how the start uses the current role's privileges (inherit, set: after SET ROLE, admin: after granting itself).
-- can_set: the start can SET ROLE to the current role (an unbroken chain of SET memberships, or its own self-grant).
walks(start, node, kind, can_set, chain, names, hops) AS (
  SELECT u.oid, u.oid, 'inherit', true, ARRAY[u.oid], ARRAY[r.name], ARRAY[]::text[] FROM useful u JOIN roles r ON r.oid = u.oid
  UNION ALL
  SELECT w.start, e.role, step.kind, step.can_set, w.chain || e.role, w.names || e.target_name, w.hops || step.hop
    FROM walks w
    JOIN edges e ON e.member = w.node
    JOIN useful u ON u.oid = e.role
    CROSS JOIN LATERAL (VALUES
      (e.via = 'member' AND w.kind = 'inherit' AND e.inherits,
         'inherit', w.can_set AND e.can_set, 'inherits'),
      (e.via = 'member' AND w.can_set AND e.can_set AND NOT (w.kind = 'inherit' AND e.inherits),
         CASE w.kind WHEN 'admin' THEN 'admin' ELSE 'set' END, true, 'SET ROLE'),
      (e.via = 'member' AND w.kind IN ('set', 'admin') AND e.inherits AND NOT (w.can_set AND e.can_set),
         w.kind, false, 'inherits'),
      -- 16+: ADMIN is exercised with the member's privileges; granting a superuser role takes a superuser.
      (e.via = 'member' AND e.admin AND NOT e.target_super,
         'admin', true, 'ADMIN'),
      (e.via = 'security definer',
         w.kind, false, 'executes ' || e.detail),
      -- An attribute, not a privilege: only the role itself, or who can SET ROLE to it, uses CREATEROLE.
      (e.via = 'createrole' AND w.can_set,
         'admin', true, 'CREATEROLE')
    ) AS step(ok, kind, can_set, hop)
   WHERE step.ok AND e.role <> ALL (w.chain) AND cardinality(w.chain) < 16
),
reached AS (
  SELECT DISTINCT ON (w.start, h.schema, h.power, h.privilege, w.node)
         w.start, w.chain, w.names, w.hops, h.schema, h.power, h.privilege, h.objects, h.object_count,
         CASE WHEN cardinality(w.chain) = 1 THEN 'self'
              WHEN h.power = 'superuser' AND w.kind = 'inherit' AND w.can_set THEN 'set'
              ELSE w.kind END AS reach
    FROM walks w JOIN held h ON h.holder = w.node
   -- Superuser is an attribute: it takes being the role (SET ROLE), or running its SECURITY DEFINER function.
   WHERE h.power <> 'superuser' OR w.can_set OR w.hops[cardinality(w.hops)] LIKE 'executes %'
   ORDER BY w.start, h.schema, h.power, h.privilege, w.node,
            array_position(ARRAY['inherit', 'set', 'admin'], w.kind), cardinality(w.chain)
)
SELECT json_build_object(
  'serverVersion', current_setting('server_version'),
  'serverVersionNum', (SELECT version_num FROM settings),
  'grantOptions', (SELECT grant_options FROM settings),
  'database', current_database(),
  'databaseOwner', (SELECT r.name FROM db JOIN roles r ON r.oid = db.datdba),
  'sessionUser', session_user,
  'bootstrapSuperuser', (SELECT name FROM roles WHERE oid = 10),
  'prodSchemas', coalesce((SELECT json_agg(json_build_object('schema', s.name, 'owner', r.name) ORDER BY s.name)
                             FROM prod s JOIN roles r ON r.oid = s.nspowner), '[]'),
  'paths', coalesce((
    SELECT json_agg(json_build_object(
             'principal', who.name, 'login', who.rolcanlogin, 'superuser', who.rolsuper,
             'schema', s.name, 'power', x.power, 'privilege', x.privilege,
             'objects', x.objects, 'objectCount', x.object_count,
             'chain', x.names,
             'hops', x.hops, 'reach', x.reach)
           ORDER BY s.name COLLATE "C", who.name COLLATE "C", cardinality(x.chain), x.power, x.privilege)
      FROM reached x JOIN roles who ON who.oid = x.start JOIN prod s ON s.oid = x.schema
     -- Predefined roles cannot log in and are held by nobody until granted: the grant is what shows, as a chain.
     WHERE who.name NOT LIKE 'pg\\_%'), '[]')
) AS catalog
`;

export interface CatalogOptions {
  rules?: MembershipRules;
  /** The role that runs `pulumi up`; default: the connecting role. */
  provisioner?: string;
  /** Signatures, as schema.name(argtypes), of SECURITY DEFINER functions the program declares: not write paths when the provisioner owns them. */
  declaredFunctions?: readonly string[];
}

/** Reads every write path to every prod schema of the connected database, in one statement. */
export async function readCatalog(client: pg.Client, options: CatalogOptions = {}): Promise<Catalog> {
  const rules = options.rules ?? "auto";
  const grantOptions = rules === "auto" ? null : rules === "16+";
  const result = await client.query<{ catalog: Catalog }>(CATALOG_SQL, [
    grantOptions,
    likePrefix(PROD_SCHEMA_PREFIX),
    [...(options.declaredFunctions ?? [])],
    options.provisioner ?? null,
  ]);
  const catalog = result.rows[0]?.catalog;
  if (catalog === undefined) throw new Error("the catalog query returned no row");
  return catalog;
}
