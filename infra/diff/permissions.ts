import { createHash } from "node:crypto";
import { accessPaths, type AccessPath } from "../boundary/access";
import type { Boundary, Principal, Schema } from "../boundary/model";
import { isProdSchemaName } from "../roster/naming";
import type { Platform, StackSettings } from "../stack";
import type {
  AccessChange, DiffSummary, PermissionDiff, PrincipalChange, PrincipalKind, SchemaChange, SettingChange,
} from "./model";

// The permission change between two boundaries, compared by effective access (who can do what on which schema,
// through any chain of roles), never by roster text: a reordered or reworded team.yaml is no change.

const ALL_PLATFORMS: Platform[] = ["postgres", "snowflake"];

/** One side of the comparison, indexed for lookups. */
interface Side {
  principals: Map<string, Principal>;
  schemas: Map<string, Schema>;
  /** `principal\0schema` → the clearest path giving any access, and the clearest giving write. */
  access: Map<string, { any: AccessPath; write?: AccessPath }>;
  /** Principals that can write to at least one prod schema. */
  prodWriters: Set<string>;
  boundary?: Boundary;
}

const keyOf = (principal: string, schema: string) => `${principal}\u0000${schema}`;

/** A grant reads better than PUBLIC's share, and a short chain better than a long one. */
const clearer = (a: AccessPath, b: AccessPath | undefined): boolean => {
  if (b === undefined) return true;
  const publicA = a.source === "public" ? 1 : 0;
  const publicB = b.source === "public" ? 1 : 0;
  return publicA < publicB || (publicA === publicB && a.via.length < b.via.length);
};

function sideOf(boundary: Boundary | undefined): Side {
  const side: Side = { principals: new Map(), schemas: new Map(), access: new Map(), prodWriters: new Set() };
  if (boundary === undefined) return side;
  side.boundary = boundary;
  for (const p of boundary.principals) side.principals.set(p.name, p);
  for (const s of boundary.schemas) side.schemas.set(s.name, s);
  const isProd = (schema: string) => side.schemas.get(schema)?.kind === "prod" || isProdSchemaName(schema);
  for (const path of accessPaths(boundary)) {
    if (!isProd(path.schema)) continue;
    const key = keyOf(path.principal, path.schema);
    const held = side.access.get(key);
    if (held === undefined) side.access.set(key, { any: path, ...(path.access === "write" ? { write: path } : {}) });
    else {
      if (clearer(path, held.any)) held.any = path;
      if (path.access === "write" && clearer(path, held.write)) held.write = path;
    }
    if (path.access === "write") side.prodWriters.add(path.principal);
  }
  return side;
}

const kindOf = (p: Principal | undefined): PrincipalKind =>
  p?.kind === "developer" ? "developer" : p?.purpose === "ci" ? "ci service account" : "prod service account";

const splitKey = (key: string): [string, string] => {
  const [principal = "", schema = ""] = key.split("\u0000");
  return [principal, schema];
};

/** Who gains or loses write on prod. A schema that comes or goes with the same writers is not a change in who writes. */
function writeChanges(before: Side, after: Side): AccessChange[] {
  const changes: AccessChange[] = [];
  for (const key of new Set([...before.access.keys(), ...after.access.keys()])) {
    const was = before.access.get(key)?.write;
    const is = after.access.get(key)?.write;
    if ((was === undefined) === (is === undefined)) continue;
    const [principal, schema] = splitKey(key);
    const schemaComesOrGoes = !before.schemas.has(schema) || !after.schemas.has(schema);
    if (schemaComesOrGoes && before.prodWriters.has(principal) && after.prodWriters.has(principal)) continue;
    const [path, side] = is ? [is, after] : [was!, before];
    changes.push({
      principal, kind: kindOf(side.principals.get(principal)), change: is ? "gains" : "loses", access: "write", schema,
      restricted: restrictedOn(before, after, schema), via: path.via, source: path.source,
      readsAfter: after.access.has(key),
    });
  }
  return changes.sort((a, b) => order(a.change, b.change) || compare(a.principal, b.principal) || compare(a.schema, b.schema));
}

/** Who gains or loses read on prod; a principal whose write changed on that schema is group 1's. */
function readChanges(before: Side, after: Side): AccessChange[] {
  const changes: AccessChange[] = [];
  for (const key of new Set([...before.access.keys(), ...after.access.keys()])) {
    const was = before.access.get(key);
    const is = after.access.get(key);
    if ((was === undefined) === (is === undefined) || was?.write || is?.write) continue;
    const [principal, schema] = splitKey(key);
    const [path, side] = is ? [is.any, after] : [was!.any, before];
    changes.push({
      principal, kind: kindOf(side.principals.get(principal)), change: is ? "gains" : "loses", access: "read", schema,
      restricted: restrictedOn(before, after, schema), via: path.via, source: path.source,
    });
  }
  return changes.sort((a, b) =>
    Number(b.restricted) - Number(a.restricted) || order(a.change, b.change) || compare(a.principal, b.principal) || compare(a.schema, b.schema));
}

/** Restricted on either side: a schema becoming restricted is what makes its lost readers worth reading first. */
const restrictedOn = (before: Side, after: Side, schema: string): boolean =>
  (before.schemas.get(schema)?.restricted ?? false) || (after.schemas.get(schema)?.restricted ?? false);

const order = (a: "gains" | "loses", b: "gains" | "loses") => (a === b ? 0 : a === "gains" ? -1 : 1);
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Snowflake's RSA_PUBLIC_KEY_FP form, so a reviewer can match it against DESC USER without seeing the key. */
export const keyFingerprint = (body: string): string =>
  `SHA256:${createHash("sha256").update(Buffer.from(body, "base64")).digest("base64")}`;

function principalChanges(before: Side, after: Side): PrincipalChange[] {
  const describe = (p: Principal, side: Side, change: PrincipalChange["change"]): PrincipalChange => {
    const roles = (side.boundary?.memberships ?? []).filter((m) => m.member === p.name).map((m) => m.role).sort();
    const own = side.boundary?.roles.find((r) => r.kind === "developer" && r.of === p.name)?.name;
    return {
      change, principal: p.name, kind: kindOf(p),
      ...(p.email === undefined ? {} : { email: p.email }),
      ...(p.kind === "developer" ? (own === undefined ? {} : { role: own }) : { roles }),
    };
  };
  const changes: PrincipalChange[] = [];
  for (const [name, p] of after.principals) {
    const old = before.principals.get(name);
    if (old === undefined || old.kind !== p.kind) {
      if (old !== undefined) changes.push(describe(old, before, "removed"));
      changes.push(describe(p, after, "added"));
      continue;
    }
    const fields: NonNullable<PrincipalChange["fields"]> = [];
    const field = (name: NonNullable<PrincipalChange["fields"]>[number]["field"], was: string | undefined, is: string | undefined) => {
      if (was !== is) fields.push({ field: name, before: was ?? null, after: is ?? null });
    };
    field("postgres login", old.logins.postgres, p.logins.postgres);
    field("snowflake user", old.logins.snowflake, p.logins.snowflake);
    field("purpose", old.purpose, p.purpose);
    field("key-pair key", old.rsaPublicKey && keyFingerprint(old.rsaPublicKey), p.rsaPublicKey && keyFingerprint(p.rsaPublicKey));
    field("second key-pair key", old.rsaPublicKey2 && keyFingerprint(old.rsaPublicKey2), p.rsaPublicKey2 && keyFingerprint(p.rsaPublicKey2));
    if (fields.length > 0) changes.push({ ...describe(p, after, "changed"), fields });
  }
  for (const [name, p] of before.principals) if (!after.principals.has(name)) changes.push(describe(p, before, "removed"));
  const rank = { removed: 0, added: 1, changed: 2 };
  return changes.sort((a, b) =>
    Number(a.kind === "developer") - Number(b.kind === "developer") || rank[a.change] - rank[b.change] || compare(a.principal, b.principal));
}

function schemaChanges(before: Side, after: Side): SchemaChange[] {
  const describe = (s: Schema, change: SchemaChange["change"]): SchemaChange => ({
    change, schema: s.name, kind: s.kind, domain: s.domain,
    ...(s.developer === undefined ? {} : { developer: s.developer, developerRemoved: !after.principals.has(s.developer) }),
    owner: s.owner, restricted: s.restricted,
    ...(s.readers === undefined ? {} : { readers: s.readers }),
    ...(change === "created" ? { fate: "created" as const } : change === "removed" ? { fate: s.kind === "prod" ? "protected" as const : "retained" as const } : {}),
  });
  const changes: SchemaChange[] = [];
  for (const [name, s] of after.schemas) {
    const old = before.schemas.get(name);
    if (old === undefined) changes.push(describe(s, "created"));
    else if (s.kind === "prod" && old.restricted !== s.restricted) changes.push(describe(s, s.restricted ? "restricted" : "unrestricted"));
  }
  for (const [name, s] of before.schemas) if (!after.schemas.has(name)) changes.push(describe(s, "removed"));
  const rank = { removed: 0, restricted: 1, unrestricted: 2, created: 3 };
  return changes.sort((a, b) =>
    Number(a.kind === "developer") - Number(b.kind === "developer") || rank[a.change] - rank[b.change] || compare(a.schema, b.schema));
}

function settingChanges(before: StackSettings | undefined, after: StackSettings | undefined): SettingChange[] {
  if (after === undefined) return [];
  const changes: SettingChange[] = [];
  const was = new Set(before?.platforms ?? []);
  const is = new Set(after.platforms);
  const added = after.platforms.filter((p) => !was.has(p));
  const removed = [...was].filter((p) => !is.has(p));
  if (added.length > 0 || removed.length > 0) changes.push({ setting: "platforms", added, removed });
  if (before?.database !== after.database) changes.push({ setting: "database", before: before?.database ?? null, after: after.database });
  // Only when Snowflake stays: a Snowflake platform that comes or goes is the platforms line's news.
  if (was.has("snowflake") && is.has("snowflake") && before?.snowflake?.adminRole !== after.snowflake?.adminRole)
    changes.push({ setting: "snowflake.adminRole", before: before?.snowflake?.adminRole ?? null, after: after.snowflake?.adminRole ?? null });
  return changes;
}

/**
 * What changes in who can do what when the boundary goes from `before` (undefined: no roster yet) to `after`.
 * `stack` gives the stack settings on each side, for platform changes and the data-retention wording.
 */
export function permissionDiff(
  before: Boundary | undefined,
  after: Boundary,
  stack: { before?: StackSettings | undefined; after?: StackSettings | undefined } = {},
): PermissionDiff {
  const was = sideOf(before);
  const is = sideOf(after);
  const prodWrite = writeChanges(was, is);
  const prodRead = readChanges(was, is);
  const principals = principalChanges(was, is);
  const schemas = schemaChanges(was, is);
  const settings = settingChanges(stack.before, stack.after);
  const counted = <T>(items: readonly T[], test: (item: T) => boolean) => items.filter(test).length;
  const summary: DiffSummary = {
    prodWriteChanges: prodWrite.length,
    readsGained: counted(prodRead, (c) => c.change === "gains"),
    readsLost: counted(prodRead, (c) => c.change === "loses"),
    restrictedReadChanges: counted(prodRead, (c) => c.restricted),
    developersAdded: counted(principals, (p) => p.kind === "developer" && p.change === "added"),
    developersRemoved: counted(principals, (p) => p.kind === "developer" && p.change === "removed"),
    serviceAccountsAdded: counted(principals, (p) => p.kind !== "developer" && p.change === "added"),
    serviceAccountsRemoved: counted(principals, (p) => p.kind !== "developer" && p.change === "removed"),
    principalsChanged: counted(principals, (p) => p.change === "changed"),
    schemasCreated: counted(schemas, (s) => s.change === "created"),
    schemasRetained: counted(schemas, (s) => s.fate === "retained"),
    prodSchemasProtected: counted(schemas, (s) => s.fate === "protected"),
    schemasRestrictionChanged: counted(schemas, (s) => s.change === "restricted" || s.change === "unrestricted"),
    settingsChanged: settings.length,
  };
  const snowflakeAdminRole = stack.after?.snowflake?.adminRole ?? stack.before?.snowflake?.adminRole;
  const postgresProvisioner = stack.after?.postgres.provisioner ?? stack.before?.postgres.provisioner;
  return {
    firstRoster: before === undefined,
    prodWrite,
    prodRead,
    principals,
    schemas,
    settings,
    prodWriters: [...is.prodWriters].sort(),
    platforms: stack.after?.platforms ?? stack.before?.platforms ?? ALL_PLATFORMS,
    ...(snowflakeAdminRole === undefined ? {} : { snowflakeAdminRole }),
    ...(postgresProvisioner === undefined ? {} : { postgresProvisioner }),
    summary,
    changed: Object.values(summary).some((n) => n > 0),
  };
}
