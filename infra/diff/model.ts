import type { AccessPath } from "../boundary/access";
import type { RoleName, SchemaName } from "../boundary/model";
import type { DenyRuleResult } from "../report/deny-rules";
import type { Platform } from "../stack";
import type { ResourceDiff } from "./resources";

// The permission change between two boundaries, grouped by risk. This object is also `diff --json`.

/** Who holds the access, in the words a reviewer uses. */
export type PrincipalKind = "developer" | "prod service account" | "ci service account";

/** One principal gaining or losing one kind of access on one prod schema. */
export interface AccessChange {
  principal: string;
  kind: PrincipalKind;
  change: "gains" | "loses";
  access: "read" | "write";
  schema: SchemaName;
  /** Whether the schema is restricted before or after the change. */
  restricted: boolean;
  /** Roles walked from the principal to the holder of the access, on the side where the access exists. */
  via: RoleName[];
  source: AccessPath["source"];
  /** For a write change: whether the principal can read the schema after the change. */
  readsAfter?: boolean;
}

export type PrincipalField = "postgres login" | "snowflake user" | "purpose" | "key-pair key" | "second key-pair key";

export interface PrincipalChange {
  change: "added" | "removed" | "changed";
  principal: string;
  kind: PrincipalKind;
  email?: string;
  /** A developer's own role: created with them, dropped with them. */
  role?: RoleName;
  /** A service account's roles, on the side where it exists. */
  roles?: RoleName[];
  /** For "changed": what changed. Key material is never copied here, only whether it changed. */
  fields?: { field: PrincipalField; before: string | null; after: string | null }[];
}

/**
 * What happens to a schema and its data:
 * - created: `pulumi up` creates it;
 * - retained: a developer schema leaving the roster; never dropped (retainOnDelete);
 * - protected: a prod schema leaving the roster; `pulumi up` stops at it until it is unprotected on purpose.
 */
export type SchemaFate = "created" | "retained" | "protected";

export interface SchemaChange {
  change: "created" | "removed" | "restricted" | "unrestricted";
  schema: SchemaName;
  kind: "prod" | "developer";
  domain: string;
  /** The developer a developer schema belongs to. */
  developer?: string;
  /** Whether that developer leaves the roster too (their role is dropped). */
  developerRemoved?: boolean;
  /** The owning role on the side where the schema exists; null is the provisioner. */
  owner: RoleName | null;
  restricted: boolean;
  /** A restricted prod schema's listed readers, after the change (or before, when removed). */
  readers?: string[];
  fate?: SchemaFate;
}

export type SettingChange =
  | { setting: "platforms"; added: Platform[]; removed: Platform[] }
  | { setting: "database"; before: string | null; after: string }
  | { setting: "snowflake.adminRole"; before: string | null; after: string | null };

export interface DiffSummary {
  prodWriteChanges: number;
  readsGained: number;
  readsLost: number;
  /** Read changes on restricted prod schemas (included in the two counts above). */
  restrictedReadChanges: number;
  developersAdded: number;
  developersRemoved: number;
  serviceAccountsAdded: number;
  serviceAccountsRemoved: number;
  principalsChanged: number;
  schemasCreated: number;
  /** Developer schemas leaving the roster: kept, never dropped. */
  schemasRetained: number;
  /** Prod schemas leaving the roster: `pulumi up` stops at each until it is unprotected. */
  prodSchemasProtected: number;
  schemasRestrictionChanged: number;
  settingsChanged: number;
}

export interface PermissionDiff {
  /** True when the base had no roster: everything is new. */
  firstRoster: boolean;
  /** 1. Who can write to prod: normally empty. */
  prodWrite: AccessChange[];
  /** 2. Read access on prod schemas, restricted schemas first. */
  prodRead: AccessChange[];
  /** 3. People, service accounts, schemas and their data, and the stack settings that matter. */
  principals: PrincipalChange[];
  schemas: SchemaChange[];
  settings: SettingChange[];
  /** Who can write to prod after the change, for the reassurance line when group 1 is empty. */
  prodWriters: string[];
  /** The platforms `pulumi up` manages after the change; the data-retention wording depends on them. */
  platforms: Platform[];
  /** The Snowflake role schemas are handed back to, when Snowflake is configured. */
  snowflakeAdminRole?: string;
  /** The PostgreSQL login that runs `pulumi up`: a dropped developer role's objects are reassigned to it. */
  postgresProvisioner?: string;
  /** 4. The counts behind the one-line summary. */
  summary: DiffSummary;
  changed: boolean;
}

/** What `diff` prints: the change, what it was compared with, and the deny rules on the new roster. */
export interface DiffReport extends PermissionDiff {
  /** The git revision compared with, as given. */
  base: string;
  /** The roster and stack files read, as given. */
  roster: string;
  /** The roster at the base, named as git does (`main:team.yaml`). */
  baseRoster: string;
  stackConfig: string;
  denyRules: DenyRuleResult;
  /** What `pulumi up` would create, update and delete, by resource type. */
  resources?: ResourceDiff;
}
