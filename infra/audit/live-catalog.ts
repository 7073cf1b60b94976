import type pg from "pg";
import { POSTGRES_WRITE_PRIVILEGES, sqlPrivilegeList } from "../platforms/postgres/privileges";
import { PROD_SCHEMA_PREFIX, likePrefix } from "../roster/naming";
import { HELD_CTE, ROLE_CTES, WALK_CTES, pathsJson, type CatalogPath as WalkPath, type MembershipRules } from "./live-walk";

export type { MembershipRules, Reach } from "./live-walk";

// The live audit's first catalog query: every way any role (or PUBLIC) can write to each prod_ schema, and every
// privilege PUBLIC holds there (D3), in a single statement, so its cost does not grow with round trips however many
// roles and tables the database holds. (The second, live-read-catalog, is about restricted data.)

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
  | "database owner"
  /** Superuser-equivalent predefined roles: run programs, or read and write files, as the server's OS user. */
  | "pg_execute_server_program"
  | "pg_write_server_files"
  | "pg_read_server_files"
  /** PostgreSQL 17+: MAINTAIN on every table (refresh, lock, cluster, reindex). */
  | "pg_maintain"
  /** Owns the function an event trigger runs: its code runs as whoever runs DDL, superusers included. */
  | "event trigger function"
  /** Holds INSERT, UPDATE or DELETE on a view or a rule-bearing table outside prod whose owner writes into prod through it. */
  | "writes through a view or rule"
  /** Owns an object outside prod that a prod object depends on (a trigger's function, a column's type, a view's table, a parent table). */
  | "owns what prod depends on"
  /** CREATE on the database: can create a schema, a prod_ one included. */
  | "CREATE on database"
  /** Holds ADMIN on a role that writes: can hand it to anyone. */
  | "ADMIN on a writer role";

export type CatalogPath = WalkPath<Power>;

/** A privilege PUBLIC holds on a prod schema or something in it (D3), grouped by schema, kind and privilege. */
export interface PublicGrant {
  schema: string;
  /** schema, table, view, materialized view, sequence, foreign table, column, function, type, future objects. */
  kind: string;
  privilege: string;
  objects: string[];
  objectCount: number;
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
  /** Schema names that are not plain lowercase ASCII: where a prod_ look-alike would hide. */
  unusualSchemas: string[];
  /** Whether the provisioner is a role of this cluster, and whether it is a member of the database's owner. */
  provisionerExists: boolean;
  provisionerInDatabaseOwner: boolean;
  /** D3: what PUBLIC holds on each prod schema and on anything in it. */
  publicGrants: PublicGrant[];
  paths: CatalogPath[];
}

// The write privileges the catalog can show, as SQL lists, from the one definition the interpreter and the pack share.
const TABLE_WRITES = sqlPrivilegeList(POSTGRES_WRITE_PRIVILEGES.table);
const COLUMN_WRITES = sqlPrivilegeList(POSTGRES_WRITE_PRIVILEGES.column);
const SEQUENCE_WRITES = sqlPrivilegeList(POSTGRES_WRITE_PRIVILEGES.sequence);
const SCHEMA_WRITES = sqlPrivilegeList(POSTGRES_WRITE_PRIVILEGES.schema);

/** Predefined roles that write on every prod schema (or do anything a superuser does, as the server's OS user). */
const PREDEFINED_WRITERS = ["pg_write_all_data", "pg_execute_server_program", "pg_write_server_files", "pg_read_server_files", "pg_maintain"];

/**
 * $1: null to follow the server's version, true for the 16+ per-grant options, false for the pre-16 rolinherit rule.
 * $2: the LIKE pattern of prod schema names.
 * $3: signatures (schema.name(argtypes)) of the program's own SECURITY DEFINER functions, trusted when $4 owns them.
 * $4: the provisioner's role name; null for the connecting role.
 * Reads only catalogs that every role may read (pg_roles, not pg_authid), so the auditor needs no privileges.
 */
export const CATALOG_SQL = `
WITH RECURSIVE
${ROLE_CTES},
prod AS (
  SELECT oid, nspname::text AS name, nspowner, nspacl FROM pg_namespace WHERE nspname LIKE $2
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
-- Column ACLs are rare: one scan of pg_attribute finds them, for write grants and PUBLIC's alike.
column_acls AS MATERIALIZED (
  SELECT attrelid, attname::text AS attname, attacl FROM pg_attribute WHERE attacl IS NOT NULL AND attnum > 0 AND NOT attisdropped
),
-- Objects outside prod (and outside the system catalogs) that something could depend on, with their owners.
outside AS MATERIALIZED (
  SELECT 'pg_class'::regclass AS classid, c.oid, c.relowner AS owner
    FROM pg_class c
   WHERE c.oid >= 16384 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relnamespace NOT IN (SELECT oid FROM prod)
  UNION ALL
  SELECT 'pg_type'::regclass, t.oid, t.typowner FROM pg_type t
   WHERE t.oid >= 16384 AND t.typtype IN ('b', 'd', 'e', 'r', 'm') AND t.typnamespace NOT IN (SELECT oid FROM prod)
  UNION ALL
  SELECT 'pg_proc'::regclass, p.oid, p.proowner FROM pg_proc p
   WHERE p.oid >= 16384 AND p.pronamespace NOT IN (SELECT oid FROM prod)
),
-- What in prod depends on them: a view's rule, a trigger, a column's type, a default, a constraint, a policy, a
-- child or partition. The owner outside can change or drop what prod runs and holds (DROP ... CASCADE reaches prod).
prod_dependencies AS (
  SELECT o.owner, dep.schema, pg_describe_object(d.classid, d.objid, d.objsubid) AS dependent,
         pg_describe_object(d.refclassid, d.refobjid, 0) AS referenced
    FROM outside o
    JOIN pg_depend d ON d.refclassid = o.classid AND d.refobjid = o.oid
    CROSS JOIN LATERAL (SELECT CASE d.classid
      WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = d.objid)
      WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE r.oid = d.objid)
      WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.oid = d.objid)
      WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid WHERE a.oid = d.objid)
      WHEN 'pg_constraint'::regclass THEN (SELECT coalesce(c.relnamespace, k.connamespace) FROM pg_constraint k LEFT JOIN pg_class c ON c.oid = k.conrelid WHERE k.oid = d.objid)
      WHEN 'pg_policy'::regclass THEN (SELECT c.relnamespace FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE p.oid = d.objid)
      WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = d.objid)
      WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = d.objid)
    END) AS dep(schema)
   WHERE dep.schema IN (SELECT oid FROM prod)
),
-- Views and rule-bearing tables outside prod whose rules touch a prod relation their owner can write: whoever may
-- write to them writes into prod with the owner's rights (rules and views run as their owner).
forwarders AS MATERIALIZED (
  SELECT DISTINCT c.oid, n.nspname || '.' || c.relname AS name, c.relowner, c.relacl, target.schema
    FROM pg_rewrite rw
    JOIN pg_class c ON c.oid = rw.ev_class
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid AND d.refclassid = 'pg_class'::regclass
    JOIN relations target ON target.oid = d.refobjid
   WHERE c.relnamespace NOT IN (SELECT oid FROM prod) AND target.relkind IN ('r', 'p', 'v', 'f')
     AND has_table_privilege(c.relowner, target.oid, 'INSERT, UPDATE, DELETE')
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
    FROM column_acls att
    JOIN relations r ON r.oid = att.attrelid
    CROSS JOIN LATERAL aclexplode(att.attacl) a
   WHERE a.grantee <> r.relowner AND a.privilege_type IN (${COLUMN_WRITES})
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
  SELECT r.oid, s.oid, r.name, NULL, NULL FROM roles r CROSS JOIN prod s
   WHERE r.name IN (${PREDEFINED_WRITERS.map((name) => `'${name}'`).join(", ")})
  UNION ALL
  SELECT db.datdba, s.oid, 'database owner', NULL, NULL FROM db CROSS JOIN prod s
  UNION ALL
  SELECT a.grantee, s.oid, 'CREATE on database', a.privilege_type, NULL
    FROM db CROSS JOIN LATERAL aclexplode(db.datacl) a CROSS JOIN prod s
   WHERE a.privilege_type = 'CREATE' AND a.grantee <> db.datdba
  UNION ALL
  SELECT p.proowner, s.oid, 'event trigger function', NULL, format('%s runs %s', e.evtname, p.oid::regprocedure)
    FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid CROSS JOIN prod s
   WHERE e.evtenabled <> 'D'
  UNION ALL
  SELECT a.grantee, f.schema, 'writes through a view or rule', a.privilege_type, f.name
    FROM forwarders f CROSS JOIN LATERAL aclexplode(f.relacl) a
   WHERE a.grantee <> f.relowner AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE')
  UNION ALL
  SELECT pd.owner, pd.schema, 'owns what prod depends on', NULL, pd.dependent || ' → ' || pd.referenced
    FROM prod_dependencies pd
),
${HELD_CTE},
${WALK_CTES},
-- ADMIN on a role that writes hands that role to anyone: kept apart, since the walk keeps only each role's best path.
admin_grants AS (
  SELECT DISTINCT ON (e.member, e.role, x.schema)
         e.member AS start, ARRAY[e.member, e.role] AS chain, ARRAY[member.name, e.target_name] AS names, ARRAY['ADMIN'] AS hops,
         x.schema, 'ADMIN on a writer role' AS power, NULL::text AS privilege, ARRAY[e.target_name] AS objects, 1::bigint AS object_count,
         'admin' AS reach
    FROM edges e JOIN roles member ON member.oid = e.member JOIN reached x ON x.start = e.role
   WHERE e.via = 'member' AND e.admin
),
-- The few distinct table ACLs that name PUBLIC, found before any table is joined to them.
public_acls AS MATERIALIZED (
  SELECT acl.relacl, a.privilege_type
    FROM (SELECT DISTINCT relacl FROM relations WHERE relacl IS NOT NULL) acl CROSS JOIN LATERAL aclexplode(acl.relacl) a
   WHERE a.grantee = 0
),
-- D3: every privilege PUBLIC holds on a prod schema or on anything in it (functions: PostgreSQL's default is EXECUTE).
public_held AS (
  SELECT s.name AS schema, 'schema' AS kind, a.privilege_type AS privilege, s.name AS object
    FROM prod s CROSS JOIN LATERAL aclexplode(s.nspacl) a WHERE a.grantee = 0
  UNION ALL
  SELECT s.name, CASE r.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                                WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'type' END,
         a.privilege_type, r.name
    FROM public_acls a JOIN relations r ON r.relacl = a.relacl JOIN prod s ON s.oid = r.schema
  UNION ALL
  SELECT s.name, 'column', a.privilege_type, r.name || '.' || att.attname
    FROM column_acls att JOIN relations r ON r.oid = att.attrelid JOIN prod s ON s.oid = r.schema
    CROSS JOIN LATERAL aclexplode(att.attacl) a
   WHERE a.grantee = 0
  UNION ALL
  SELECT s.name, 'function', a.privilege_type, p.oid::regprocedure::text
    FROM pg_proc p JOIN prod s ON s.oid = p.pronamespace
    CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
   WHERE a.grantee = 0
  UNION ALL
  SELECT s.name, 'type', a.privilege_type, t.typname::text
    FROM pg_type t JOIN prod s ON s.oid = t.typnamespace CROSS JOIN LATERAL aclexplode(t.typacl) a
   WHERE t.typacl IS NOT NULL AND a.grantee = 0
  UNION ALL
  SELECT s.name, 'future objects', a.privilege_type,
         'future ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' ELSE 'objects' END
           || ' created by ' || pg_get_userbyid(d.defaclrole)
    FROM pg_default_acl d JOIN prod s ON d.defaclnamespace IN (0, s.oid) CROSS JOIN LATERAL aclexplode(d.defaclacl) a
   WHERE a.grantee = 0 AND has_schema_privilege(d.defaclrole, s.oid, 'CREATE')
),
public_grants AS (
  SELECT schema, kind, privilege,
         (array_agg(DISTINCT object COLLATE "C" ORDER BY object COLLATE "C"))[1:3] AS objects, count(DISTINCT object COLLATE "C") AS object_count
    FROM public_held GROUP BY schema, kind, privilege
),
-- The roles the provisioner is a member of, through memberships (pg_has_role would answer true for any superuser).
provisioner_groups(oid) AS (
  SELECT m.roleid FROM pg_auth_members m JOIN pg_roles p ON p.oid = m.member WHERE p.rolname = coalesce($4, session_user)
  UNION
  SELECT m.roleid FROM pg_auth_members m JOIN provisioner_groups g ON g.oid = m.member
),
found AS (
  SELECT start, chain, names, hops, schema, power, privilege, objects, object_count, reach FROM reached
  UNION ALL
  SELECT start, chain, names, hops, schema, power, privilege, objects, object_count, reach FROM admin_grants
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
  'unusualSchemas', coalesce((SELECT json_agg(nspname::text ORDER BY nspname) FROM pg_namespace WHERE nspname !~ '^[a-z0-9_]*$'), '[]'),
  'provisionerExists', EXISTS (SELECT 1 FROM pg_roles WHERE rolname = coalesce($4, session_user)),
  'provisionerInDatabaseOwner', EXISTS (SELECT 1 FROM db JOIN provisioner_groups g ON g.oid = db.datdba),
  'publicGrants', coalesce((SELECT json_agg(json_build_object('schema', schema, 'kind', kind, 'privilege', privilege,
                                                              'objects', objects, 'objectCount', object_count)
                                            ORDER BY schema COLLATE "C", kind, privilege) FROM public_grants), '[]'),
  'paths', ${pathsJson("found", "prod")}
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
