// The part of the live audit's catalog queries that the write and the read audit share: the roles, every way from one
// role to another (memberships with INHERIT/SET/ADMIN, SECURITY DEFINER functions, user mappings, pre-16 CREATEROLE),
// and the walk from every role to the powers a query's `held` CTE lists. One text, so both audits follow the same paths.

/** How the principal comes to use the holder's power: it is the holder, inherits it, can SET ROLE to it, or can grant it to itself. */
export type Reach = "self" | "inherit" | "set" | "admin";

/** One way a principal reaches a power, as both catalog queries return it. */
export interface CatalogPath<P extends string = string> {
  /** The role that can act (a login or not), or "PUBLIC" for every role. */
  principal: string;
  login: boolean;
  superuser: boolean;
  schema: string;
  power: P;
  /** The privilege for grants (INSERT, CREATE, ...); null for ownership and attributes. */
  privilege: string | null;
  /** Up to three of the objects the power covers, sorted: tables, columns (table.column), functions (name()), future objects. */
  objects: string[];
  objectCount: number;
  /** principal, then each role walked to the holder of the power. */
  chain: string[];
  /** One per step of the chain: "inherits", "SET ROLE", "ADMIN", "CREATEROLE", "executes f(int)", "logs in as x (user mapping on s)". */
  hops: string[];
  reach: Reach;
}

export type MembershipRules = "auto" | "16+" | "pre-16";

/** settings, roles and db; $1 picks the membership rules (null: the server's version). */
export const ROLE_CTES = `
settings AS (
  SELECT current_setting('server_version_num')::int AS version_num,
         coalesce($1::boolean, current_setting('server_version_num')::int >= 160000) AS grant_options
),
roles AS (
  SELECT oid, rolname::text AS name, rolsuper, rolinherit, rolcreaterole, rolcanlogin FROM pg_roles
  UNION ALL SELECT 0::oid, 'PUBLIC', false, true, false, false
),
db AS (
  SELECT oid, datdba, datacl FROM pg_database WHERE datname = current_database()
)`;

/**
 * edges, useful, walks and reached, after a `held(holder, schema, power, privilege, objects, object_count)` CTE.
 * $3: signatures of the program's own SECURITY DEFINER functions, trusted when $4 (the provisioner; null: the
 * connecting role) owns them.
 */
export const WALK_CTES = `
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
  -- A user mapping (postgres_fdw, dblink) logs its user in as the role its user= option names; a server that loops
  -- back to this cluster makes that a login as that role here. pg_user_mappings shows the options to the mapped user,
  -- the server's owner and superusers; the audit sees what its role may see.
  SELECT um.umuser, target.oid, target.name, target.rolsuper, false, true, false, 'user mapping',
         format('logs in as %s (user mapping on %s)', target.name, um.srvname) COLLATE "default"
    FROM pg_user_mappings um
    CROSS JOIN LATERAL (SELECT substr(o, 6) AS login FROM unnest(um.umoptions) o WHERE o LIKE 'user=%' LIMIT 1) opt
    JOIN roles target ON target.name = opt.login AND target.oid <> um.umuser
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
      -- A mapping is found for the current user only, so the start must be able to become the node; logged in as the
      -- target, it then is the target, inheriting what it inherits.
      (e.via = 'user mapping' AND w.can_set,
         'inherit', true, e.detail),
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
   -- Superuser is an attribute: it takes being the role (SET ROLE), logging in as it, or running its SECURITY DEFINER function.
   WHERE h.power <> 'superuser' OR w.can_set OR w.hops[cardinality(w.hops)] LIKE 'executes %'
   ORDER BY w.start, h.schema, h.power, h.privilege, w.node,
            array_position(ARRAY['inherit', 'set', 'admin'], w.kind), cardinality(w.chain)
)`;

/** The json_agg of `from`'s rows (reached's columns) joined to their principal and schema (`schemas` CTE: oid, name), in a stable order. */
export const pathsJson = (from: string, schemas: string): string => `coalesce((
    SELECT json_agg(json_build_object(
             'principal', who.name, 'login', who.rolcanlogin, 'superuser', who.rolsuper,
             'schema', s.name, 'power', x.power, 'privilege', x.privilege,
             'objects', x.objects, 'objectCount', x.object_count,
             'chain', x.names,
             'hops', x.hops, 'reach', x.reach)
           ORDER BY s.name COLLATE "C", who.name COLLATE "C", cardinality(x.chain), x.power, x.privilege)
      FROM ${from} x JOIN roles who ON who.oid = x.start JOIN ${schemas} s ON s.oid = x.schema
     -- Predefined roles cannot log in and are held by nobody until granted: the grant is what shows, as a chain.
     WHERE who.name NOT LIKE 'pg\\_%'), '[]')`;

/** held from powers: one row per holder, schema, power and privilege, with up to three of its objects. */
export const HELD_CTE = `
held AS (
  SELECT holder, schema, power, privilege,
         -- Byte order (COLLATE "C"): stable everywhere, and far cheaper than the locale's over 10,000 table names.
         coalesce((array_agg(DISTINCT object COLLATE "C" ORDER BY object COLLATE "C") FILTER (WHERE object IS NOT NULL))[1:3], '{}') AS objects,
         count(DISTINCT object COLLATE "C") AS object_count
    FROM powers GROUP BY holder, schema, power, privilege
)`;
