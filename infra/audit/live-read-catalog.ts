import type pg from "pg";
import { POSTGRES_READ_PRIVILEGES, sqlPrivilegeList } from "../platforms/postgres/privileges";
import { HELD_CTE, ROLE_CTES, WALK_CTES, pathsJson, type CatalogPath, type MembershipRules } from "./live-walk";

// The live audit's second catalog query: every way any role can read a restricted domain's data (its prod schema, a
// developer's or CI's copy of it, a view elsewhere over any of them), and the health of the program's own machinery.
// One statement, whatever the catalog's size, through the same walk as writes.

/** What a role holds that lets it read restricted data, or that reading needs (USAGE on the schema it sits in). */
export type ReadPower =
  | "superuser"
  | "schema owner"
  | "pg_read_all_data"
  | "object owner"
  | "SELECT"
  | "column SELECT"
  | "default privilege"
  /** Owns or may SELECT a view or materialized view outside the schema that reads from it; privilege: the view's schema. */
  | "copy owner"
  | "copy SELECT"
  /** USAGE on a schema; privilege: which one (the guarded schema, or the schema of a copy). */
  | "USAGE on schema";

export type ReadCatalogPath = CatalogPath<ReadPower>;

/** What the program's own machinery needs to work, read from the catalog. */
export interface MachineryHealth {
  ciBuilder: string;
  ciBuilderExists: boolean;
  /** The provisioner can grant itself the CI role (superuser; 16+: ADMIN on it; before: also CREATEROLE): ci.create_schema
   *  does so around CREATE SCHEMA … AUTHORIZATION it. */
  provisionerCanGrantCiBuilder: boolean | null;
  /** The owner of ci.create_schema(text, text), null when the function is missing. */
  ciFunctionOwner: string | null;
  /** Roles the stack manages that the provisioner cannot grant, alter or drop (16+: no ADMIN on them; before: superusers). */
  rolesWithoutAdmin: string[];
  /** Developer schemas that exist with another owner than their developer's role (a restricted copy: the provisioner). */
  misownedDeveloperSchemas: { schema: string; owner: string; expected: string }[];
  /** PUBLIC may CREATE in schema `public` (PostgreSQL 14's default, kept where the provisioner does not own `public`). */
  publicCreatesInPublic: boolean;
  /** User mappings whose options the audit's role may not read (`<user> on <server>`): whom they log in as is unknown. */
  hiddenUserMappings: string[];
}

export interface ReadCatalog {
  /** Schemas that hold restricted data, with their owners. */
  guardedSchemas: { schema: string; owner: string }[];
  paths: ReadCatalogPath[];
  health: MachineryHealth;
}

/** The signature of the program's function that creates CI schemas (platforms/postgres registers it; a test keeps them equal). */
export const CI_FUNCTION_SIGNATURE = "ci.create_schema(text, text)";

const SELECTS = sqlPrivilegeList(POSTGRES_READ_PRIVILEGES.table);

/**
 * $1: membership rules (null: the server's). $2: the regular expression of schemas holding restricted data (null: none).
 * $3, $4: as in the write query (declared functions, provisioner). $5: the CI role; $6: the signature of the function
 * that creates CI schemas. $7: the roles the stack manages; $8, $9: its developer schemas and their owning roles.
 */
export const READ_CATALOG_SQL = `
WITH RECURSIVE
${ROLE_CTES},
guarded AS (
  SELECT oid, nspname::text AS name, nspowner, nspacl FROM pg_namespace WHERE nspname ~ $2
),
grelations AS MATERIALIZED (
  SELECT c.oid, c.relname::text AS name, c.relowner, c.relacl, g.oid AS schema
    FROM pg_class c JOIN guarded g ON g.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
),
-- User views and materialized views outside the guarded schemas, with their _RETURN rules: few, whatever the catalog.
outside_views AS MATERIALIZED (
  SELECT rw.oid AS rule, c.oid, c.relname::text AS name, c.relowner, c.relacl, c.relnamespace
    FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class
   WHERE c.oid >= 16384 AND c.relkind IN ('v', 'm') AND c.relnamespace NOT IN (SELECT oid FROM guarded)
),
-- Those that read restricted data, through any number of views: copies, wherever they sit.
views_over(oid, schema) AS (
  SELECT v.oid, g.schema
    FROM outside_views v
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = v.rule AND d.refclassid = 'pg_class'::regclass
    JOIN grelations g ON g.oid = d.refobjid
  UNION
  SELECT v.oid, o.schema
    FROM views_over o
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = o.oid AND d.classid = 'pg_rewrite'::regclass
    JOIN outside_views v ON v.rule = d.objid
   WHERE v.oid <> o.oid
),
copies AS MATERIALIZED (
  SELECT DISTINCT v.oid, n.nspname::text AS namespace, n.oid AS nsp, v.name, v.relowner, v.relacl, o.schema
    FROM views_over o JOIN outside_views v ON v.oid = o.oid JOIN pg_namespace n ON n.oid = v.relnamespace
),
-- Tables share ACLs: each distinct one is exploded once.
select_grants AS MATERIALIZED (
  SELECT acl.relacl, acl.relowner, a.grantee
    FROM (SELECT DISTINCT relacl, relowner FROM grelations WHERE relacl IS NOT NULL) acl
    CROSS JOIN LATERAL aclexplode(acl.relacl) a
   WHERE a.grantee <> acl.relowner AND a.privilege_type IN (${SELECTS})
),
powers AS (
  SELECT r.oid AS holder, g.oid AS schema, 'superuser' COLLATE "C" AS power, NULL::text COLLATE "C" AS privilege, NULL::text AS object
    FROM roles r CROSS JOIN guarded g WHERE r.rolsuper
  UNION ALL
  SELECT g.nspowner, g.oid, 'schema owner', NULL, NULL FROM guarded g
  UNION ALL
  SELECT r.oid, g.oid, 'pg_read_all_data', NULL, NULL FROM roles r CROSS JOIN guarded g WHERE r.name = 'pg_read_all_data'
  UNION ALL
  SELECT r.relowner, r.schema, 'object owner', NULL, r.name FROM grelations r
  UNION ALL
  SELECT g.grantee, r.schema, 'SELECT', NULL, r.name
    FROM select_grants g JOIN grelations r ON r.relacl = g.relacl AND r.relowner = g.relowner
  UNION ALL
  SELECT a.grantee, r.schema, 'column SELECT', NULL, r.name || '.' || att.attname
    FROM pg_attribute att JOIN grelations r ON r.oid = att.attrelid CROSS JOIN LATERAL aclexplode(att.attacl) a
   WHERE att.attacl IS NOT NULL AND att.attnum > 0 AND NOT att.attisdropped AND a.grantee <> r.relowner AND a.privilege_type = 'SELECT'
  UNION ALL
  SELECT a.grantee, g.oid, 'default privilege', NULL,
         'future tables created by ' || creator.name || CASE WHEN d.defaclnamespace = 0 THEN ' in any schema' ELSE '' END
    FROM pg_default_acl d
    JOIN guarded g ON d.defaclnamespace IN (0, g.oid)
    JOIN roles creator ON creator.oid = d.defaclrole
    CROSS JOIN LATERAL aclexplode(d.defaclacl) a
   WHERE d.defaclobjtype = 'r' AND a.grantee <> d.defaclrole AND a.privilege_type = 'SELECT'
     AND has_schema_privilege(d.defaclrole, g.oid, 'CREATE')
  UNION ALL
  SELECT c.relowner, c.schema, 'copy owner', c.namespace, c.namespace || '.' || c.name FROM copies c
  UNION ALL
  SELECT a.grantee, c.schema, 'copy SELECT', c.namespace, c.namespace || '.' || c.name
    FROM copies c CROSS JOIN LATERAL aclexplode(c.relacl) a
   WHERE a.grantee <> c.relowner AND a.privilege_type = 'SELECT'
  UNION ALL
  -- Reading needs USAGE on the schema the object sits in: the guarded schema's, and each copy's (the owner's is implicit).
  SELECT a.grantee, g.oid, 'USAGE on schema', g.name, NULL
    FROM guarded g CROSS JOIN LATERAL aclexplode(coalesce(g.nspacl, acldefault('n', g.nspowner))) a
   WHERE a.privilege_type = 'USAGE'
  UNION ALL
  SELECT a.grantee, c.schema, 'USAGE on schema', c.namespace, NULL
    FROM (SELECT DISTINCT schema, namespace, nsp FROM copies) c
    JOIN pg_namespace n ON n.oid = c.nsp
    CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
   WHERE a.privilege_type = 'USAGE'
),
${HELD_CTE},
${WALK_CTES},
provisioner AS (
  SELECT oid, rolcreaterole FROM pg_roles WHERE rolname = coalesce($4, session_user)
),
ci_role AS (
  SELECT oid, rolsuper FROM pg_roles WHERE rolname = $5
)
SELECT json_build_object(
  'guardedSchemas', coalesce((SELECT json_agg(json_build_object('schema', g.name, 'owner', r.name) ORDER BY g.name COLLATE "C")
                                FROM guarded g JOIN roles r ON r.oid = g.nspowner), '[]'),
  'paths', ${pathsJson("reached", "guarded")},
  'health', json_build_object(
    'ciBuilder', $5::text,
    'ciBuilderExists', EXISTS (SELECT 1 FROM ci_role),
    -- What GRANT <ci role> TO <provisioner> needs, run by the provisioner (pg_has_role's ADMIN is true for a superuser).
    'provisionerCanGrantCiBuilder', (SELECT pg_has_role(p.oid, c.oid, 'MEMBER WITH ADMIN OPTION')
                                            OR (st.version_num < 160000 AND p.rolcreaterole AND NOT c.rolsuper)
                                       FROM provisioner p CROSS JOIN ci_role c CROSS JOIN settings st),
    -- Matched in the catalog, not with to_regprocedure, which needs USAGE on the function's schema.
    'ciFunctionOwner', (SELECT pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                         WHERE format('%s.%s(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes)) = $6 LIMIT 1),
    -- What GRANT, ALTER ROLE and DROP ROLE take from a non-superuser: ADMIN on the role (16+), CREATEROLE before.
    'rolesWithoutAdmin', (SELECT coalesce(json_agg(r.rolname::text ORDER BY r.rolname COLLATE "C"), '[]')
                            FROM pg_roles r CROSS JOIN provisioner p CROSS JOIN settings st
                           WHERE r.rolname = ANY ($7::text[]) AND NOT pg_has_role(p.oid, r.oid, 'MEMBER WITH ADMIN OPTION')
                             AND NOT (st.version_num < 160000 AND p.rolcreaterole AND NOT r.rolsuper)),
    -- A null owner is the provisioner's (a restricted copy, which nobody else may own: its owner could share it).
    'misownedDeveloperSchemas', (SELECT coalesce(json_agg(json_build_object('schema', d.schema, 'owner', pg_get_userbyid(n.nspowner)::text, 'expected', d.expected)
                                                  ORDER BY d.schema COLLATE "C"), '[]')
                                   FROM (SELECT u.schema, coalesce(u.owner, $4, session_user::text) AS expected
                                           FROM unnest($8::text[], $9::text[]) AS u(schema, owner)) d
                                   JOIN pg_namespace n ON n.nspname = d.schema
                                  WHERE pg_get_userbyid(n.nspowner) <> d.expected),
    -- Schema public is on every default search_path: a look-alike there runs as whoever calls it unqualified.
    'publicCreatesInPublic', EXISTS (SELECT 1 FROM pg_namespace n CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                                      WHERE n.nspname = 'public' AND a.grantee = 0 AND a.privilege_type = 'CREATE'),
    -- pg_user_mappings shows a mapping's options only to superusers and the mapped user: a managed database's audit
    -- cannot follow it, so it is named instead.
    'hiddenUserMappings', coalesce((SELECT json_agg(format('%s on %s', um.usename, um.srvname) ORDER BY um.usename, um.srvname)
                                      FROM pg_user_mappings um
                                     WHERE um.umoptions IS NULL AND um.umuser <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
                                       AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)), '[]')
  )
) AS catalog
`;

export interface ReadCatalogOptions {
  rules?: MembershipRules;
  provisioner?: string;
  declaredFunctions?: readonly string[];
  /** The regular expression of schemas that hold restricted data; undefined when the roster restricts no domain. */
  guardedPattern?: string;
  ciBuilder: string;
  ciFunction: string;
  /** Every role and login the stack declares. */
  managedRoles?: readonly string[];
  /** Every developer schema the stack declares, with its owning role (null: the provisioner's, a restricted copy). */
  developerSchemas?: readonly { schema: string; owner: string | null }[];
}

/** Reads every read path to restricted data and the machinery's health, in one statement. */
export async function readReadCatalog(client: pg.Client, options: ReadCatalogOptions): Promise<ReadCatalog> {
  const rules = options.rules ?? "auto";
  const result = await client.query<{ catalog: ReadCatalog }>(READ_CATALOG_SQL, [
    rules === "auto" ? null : rules === "16+",
    options.guardedPattern ?? null,
    [...(options.declaredFunctions ?? [])],
    options.provisioner ?? null,
    options.ciBuilder,
    options.ciFunction,
    [...(options.managedRoles ?? [])],
    (options.developerSchemas ?? []).map((d) => d.schema),
    (options.developerSchemas ?? []).map((d) => d.owner),
  ]);
  const catalog = result.rows[0]?.catalog;
  if (catalog === undefined) throw new Error("the read catalog query returned no row");
  return catalog;
}
