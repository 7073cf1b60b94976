import type * as postgresql from "@pulumi/postgresql";
import type * as snowflake from "@pulumi/snowflake";
import type { Platform } from "../stack";

// Every kind of resource the platforms declare: its type token, and its inputs as the provider SDK types them (so tsc
// checks every input against @pulumi/postgresql and @pulumi/snowflake), minus Pulumi's Output/Promise wrappers.
// Type-only imports: nothing here loads a Pulumi package at run time.

/** An SDK input type as plain data: `Input<T>` becomes `T`, all the way down. */
export type Plain<T> = T extends PromiseLike<unknown> | { apply: unknown }
  ? never
  : T extends readonly (infer E)[]
    ? Plain<E>[]
    : T extends object
      ? { [K in keyof T]: Plain<T[K]> }
      : T;

/** Provider resources, by type token, with the SDK's own argument types. */
export interface ProviderResourceArgs {
  "postgresql:index/role:Role": postgresql.RoleArgs;
  "postgresql:index/schema:Schema": postgresql.SchemaArgs;
  "postgresql:index/grant:Grant": postgresql.GrantArgs;
  "postgresql:index/defaultPrivileges:DefaultPrivileges": postgresql.DefaultPrivilegesArgs;
  "postgresql:index/function:Function": postgresql.FunctionArgs;
  "postgresql:index/grantRole:GrantRole": postgresql.GrantRoleArgs;
  "snowflake:index/accountRole:AccountRole": snowflake.AccountRoleArgs;
  "snowflake:index/grantAccountRole:GrantAccountRole": snowflake.GrantAccountRoleArgs;
  "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole": snowflake.GrantPrivilegesToAccountRoleArgs;
  "snowflake:index/grantOwnership:GrantOwnership": snowflake.GrantOwnershipArgs;
  "snowflake:index/schema:Schema": snowflake.SchemaArgs;
  "snowflake:index/procedureSql:ProcedureSql": snowflake.ProcedureSqlArgs;
  "snowflake:index/authenticationPolicy:AuthenticationPolicy": snowflake.AuthenticationPolicyArgs;
  "snowflake:index/serviceUser:ServiceUser": snowflake.ServiceUserArgs;
  "snowflake:index/userAuthenticationPolicyAttachment:UserAuthenticationPolicyAttachment": snowflake.UserAuthenticationPolicyAttachmentArgs;
}

export type ProviderResourceType = keyof ProviderResourceArgs;

/** Our own components: they group resources (and so are part of every child's URN) and hold no inputs. */
export const COMPONENT_TYPES = [
  "warehouse-access:postgres:Access",
  "warehouse-access:postgres:Developer",
  "warehouse-access:snowflake:Access",
  "warehouse-access:snowflake:ProdSchema",
] as const;
export type ComponentType = (typeof COMPONENT_TYPES)[number];

export type ResourceType = ProviderResourceType | ComponentType;

/** What a resource of type T is declared with. */
export type InputsOf<T extends ProviderResourceType> = Plain<ProviderResourceArgs[T]>;

/** The type tokens, by short name, for the code that declares them. */
export const PG = {
  role: "postgresql:index/role:Role",
  schema: "postgresql:index/schema:Schema",
  grant: "postgresql:index/grant:Grant",
  defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
  function: "postgresql:index/function:Function",
  grantRole: "postgresql:index/grantRole:GrantRole",
} as const satisfies Record<string, ProviderResourceType>;

export const SF = {
  accountRole: "snowflake:index/accountRole:AccountRole",
  grantAccountRole: "snowflake:index/grantAccountRole:GrantAccountRole",
  grantPrivileges: "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole",
  grantOwnership: "snowflake:index/grantOwnership:GrantOwnership",
  schema: "snowflake:index/schema:Schema",
  procedureSql: "snowflake:index/procedureSql:ProcedureSql",
  authenticationPolicy: "snowflake:index/authenticationPolicy:AuthenticationPolicy",
  serviceUser: "snowflake:index/serviceUser:ServiceUser",
  userAuthenticationPolicyAttachment: "snowflake:index/userAuthenticationPolicyAttachment:UserAuthenticationPolicyAttachment",
} as const satisfies Record<string, ProviderResourceType>;

const PLATFORM_OF: Record<string, Platform> = { postgresql: "postgres", snowflake: "snowflake", "warehouse-access:postgres": "postgres", "warehouse-access:snowflake": "snowflake" };

/** The platform a type token belongs to: its provider package, or the component's `warehouse-access:<platform>` prefix. */
export const platformOf = (token: string): Platform | undefined =>
  PLATFORM_OF[token.split(":")[0]!] ?? PLATFORM_OF[token.split(":").slice(0, 2).join(":")];
