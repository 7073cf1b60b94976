// The permission boundary: what every warehouse must enforce, in no warehouse's dialect.

export type RoleName = string;
export type SchemaName = string;

/** A person or account that logs in; the name is the roster name, not a platform login. */
export interface Principal {
  name: string;
  kind: "developer" | "service";
  purpose?: "prod" | "ci";
  logins: { postgres: string; snowflake: string };
  email?: string;
  rsaPublicKey?: string;
  /** A second key during a rotation (Snowflake RSA_PUBLIC_KEY_2). */
  rsaPublicKey2?: string;
}

export type RoleKind = "developer" | "prod_reader" | "restricted_reader" | "prod_writer" | "ci_builder";

export interface Role {
  name: RoleName;
  kind: RoleKind;
  /** The developer a developer role belongs to, or the domain a restricted reader role reads. */
  of?: string;
}

export interface Schema {
  name: SchemaName;
  kind: "prod" | "developer";
  domain: string;
  /** The owning role; null means the provisioning identity that runs `pulumi up` (an admin path). */
  owner: RoleName | null;
  developer?: string;
  /** A restricted domain's prod schema, or a developer's copy of one (owned by the provisioner, so nobody can share it). */
  restricted: boolean;
  /** For a restricted prod schema: the developers (and CI accounts) the roster lists as its readers, sorted. D5 checks every
   *  read path against this list, so the boundary carries the roster's intent and not only its grants. */
  readers?: string[];
}

/** read: use the schema and select from every table and view in it, now and later.
 *  write: read, plus create objects and change data in it, now and later. */
export type Access = "read" | "write";

export interface SchemaGrant {
  /** A role, or "public" for PUBLIC (which the boundary must never grant anything on prod). */
  role: RoleName;
  schema: SchemaName;
  access: Access;
}

/** `member` (a principal or a role) inherits everything `role` holds. */
export interface Membership {
  member: string;
  role: RoleName;
}

export interface Boundary {
  principals: Principal[];
  roles: Role[];
  schemas: Schema[];
  grants: SchemaGrant[];
  memberships: Membership[];
  /** The role that may create (and so owns) throwaway schemas named with this prefix. Its schemas of the restricted
   *  domains it reads (`restrictedCopies`, sorted) are restricted copies: the provisioner owns them, the role creates in
   *  them, so a CI run cannot share them (D5). A restricted domain it does not read gets no CI schema. */
  ciSchemas: { creator: RoleName; prefix: string; restrictedCopies: string[] };
}

export const PUBLIC = "public";
