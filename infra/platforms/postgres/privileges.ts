// Which PostgreSQL privileges count as writing, said once: the interpreter (and so the stack policy), the policy pack's
// resource rules and the live audit's catalog query all judge by these lists. Pure, so the policy pack may load it.

/** Privileges that write, per object type a grant or default privilege names, by what each one lets its holder do.
 *  ALL is how a resource grants every privilege; the catalog never shows it (aclexplode lists them one by one). */
export const POSTGRES_WRITE_PRIVILEGES = {
  /** CREATE makes objects in the schema (and so owns them). */
  schema: ["CREATE", "ALL"],
  /** Change data, fire code on it, or (MAINTAIN, PostgreSQL 17+; older servers never report it) refresh, lock, cluster. */
  table: ["INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "MAINTAIN", "ALL"],
  column: ["INSERT", "UPDATE", "ALL"],
  /** USAGE allows nextval(), UPDATE setval() as well: either moves a prod sequence under the writer's feet. */
  sequence: ["USAGE", "UPDATE", "ALL"],
} as const satisfies Record<string, readonly string[]>;

/**
 * The same, when a grant is judged on its own without the objects it covers (the policy pack). Stricter than what the
 * live audit counts, deliberately: the pack cannot see whether a routine is SECURITY DEFINER, so running prod code
 * counts as writing with its owner's rights. (The audit reads prosecdef in the catalog, and follows EXECUTE only on
 * SECURITY DEFINER functions.)
 */
export const POSTGRES_UNSEEN_WRITE_PRIVILEGES: Readonly<Record<string, readonly string[]>> = {
  ...POSTGRES_WRITE_PRIVILEGES,
  function: ["EXECUTE", "ALL"],
  procedure: ["EXECUTE", "ALL"],
  routine: ["EXECUTE", "ALL"],
};

/** Privileges that read: USAGE on the schema and SELECT on its tables. */
export const POSTGRES_READ_PRIVILEGES = {
  schema: ["USAGE", "ALL"],
  table: ["SELECT", "ALL"],
} as const satisfies Record<string, readonly string[]>;

/** Whether any of `privileges` (upper case) is one of `of`. */
export const holdsAny = (privileges: readonly string[], of: readonly string[]): boolean => privileges.some((p) => of.includes(p));

/** The privileges as a SQL list of literals, for `privilege_type IN (...)`; ALL is left out, as the catalog never shows it. */
export const sqlPrivilegeList = (privileges: readonly string[]): string =>
  privileges.filter((p) => p !== "ALL").map((p) => `'${p.replace(/'/g, "''")}'`).join(", ");
