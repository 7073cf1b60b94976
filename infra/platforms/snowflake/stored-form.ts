import { SNOWFLAKE_TYPES } from "./interpret";
import { identifierParts } from "./identifiers";

// The form terraform-provider-snowflake v1.2.1 (what @pulumi/snowflake 1.3.0 bridges) keeps each input in after it
// reads a resource back. An input sent in another form on a ForceNew field replaces the resource on every `pulumi up`;
// on an updatable field it is a perpetual update. Every input the program sends must have a rule here, transcribed
// from the provider's schema and Read function (named per rule), so a new input cannot slip in unexamined.

export type StoredForm =
  /** Read never rewrites it (or does not read it): whatever is sent stays. */
  | "as sent"
  /** A DiffSuppressFunc compares identifiers with quotes stripped (diff_suppressions.go suppressIdentifierQuoting):
   *  any quoting of the same parts is equal, but it must parse as an identifier. */
  | "identifier, quotes ignored"
  /** Read stores sdk.AccountObjectIdentifier.Name(): the bare name, no quotes; and the field has no quote-insensitive diff. */
  | "bare name"
  /** Read stores what SHOW or DESCRIBE print: upper case. */
  | "upper case"
  /** A validateBooleanString field: "true" or "false". */
  | "boolean string"
  /** DESCRIBE USER prints RSA_PUBLIC_KEY as the base64 body: no PEM armour, no line breaks. */
  | "key body"
  /** A schema Default the provider always sends, stored as DESCRIBE reports it (which differs): send the default, ignore changes. */
  | "always sent, ignored";

interface FieldRule {
  form: StoredForm;
  /** The provider function the rule comes from. */
  source: string;
  /** For "always sent, ignored": the value the provider sends. */
  value?: string;
}

const AS_SENT = (source: string): FieldRule => ({ form: "as sent", source });
const QUOTES_IGNORED = (source: string): FieldRule => ({ form: "identifier, quotes ignored", source });
const UPPER = (source: string): FieldRule => ({ form: "upper case", source });

/** Per resource type, per input path (array elements as `[]`, nested blocks with dots). */
export const STORED_FORMS: Record<string, Record<string, FieldRule>> = {
  [SNOWFLAKE_TYPES.accountRole]: {
    name: QUOTES_IGNORED("account_role.go name: suppressIdentifierQuoting"),
    comment: AS_SENT("account_role.go ReadAccountRole: comment from SHOW ROLES, as set"),
  },
  // Read only checks that the grant exists (grant_account_role.go ReadGrantAccountRole); the names are never rewritten.
  [SNOWFLAKE_TYPES.grantAccountRole]: {
    roleName: AS_SENT("grant_account_role.go ReadGrantAccountRole sets no name"),
    parentRoleName: AS_SENT("grant_account_role.go ReadGrantAccountRole sets no name"),
    userName: AS_SENT("grant_account_role.go ReadGrantAccountRole sets no name"),
  },
  [SNOWFLAKE_TYPES.grantPrivileges]: {
    accountRoleName: QUOTES_IGNORED("grant_privileges_to_account_role.go account_role_name: suppressIdentifierQuoting"),
    "privileges[]": UPPER("grant_privileges_to_account_role.go ReadGrantPrivilegesToAccountRole: privileges from SHOW GRANTS"),
    "onAccountObject.objectType": UPPER("grant_privileges_to_account_role.go: object_type from the ID, sdk.ObjectType"),
    "onAccountObject.objectName": QUOTES_IGNORED("grant_privileges_to_account_role.go on_account_object.object_name: suppressIdentifierQuoting"),
    "onSchema.schemaName": QUOTES_IGNORED("grant_privileges_to_account_role.go on_schema.schema_name: suppressIdentifierQuoting"),
    "onSchemaObject.objectType": UPPER("grant_privileges_to_account_role.go: object_type, sdk.ObjectType"),
    "onSchemaObject.objectName": AS_SENT("grant_privileges_to_account_role.go on_schema_object.object_name: the ID as sent (procedures carry their argument types)"),
    "onSchemaObject.all.objectTypePlural": UPPER("grant_privileges_to_account_role.go: object_type_plural, sdk.PluralObjectType"),
    "onSchemaObject.all.inSchema": QUOTES_IGNORED("grant_privileges_to_account_role.go in_schema: suppressIdentifierQuoting"),
    "onSchemaObject.future.objectTypePlural": UPPER("grant_privileges_to_account_role.go: object_type_plural, sdk.PluralObjectType"),
    "onSchemaObject.future.inSchema": QUOTES_IGNORED("grant_privileges_to_account_role.go in_schema: suppressIdentifierQuoting"),
  },
  [SNOWFLAKE_TYPES.grantOwnership]: {
    accountRoleName: QUOTES_IGNORED("grant_ownership.go account_role_name: suppressIdentifierQuoting"),
    outboundPrivileges: UPPER("grant_ownership.go outbound_privileges: COPY or REVOKE"),
    "on.objectType": UPPER("grant_ownership.go on.object_type: sdk.ObjectType"),
    "on.objectName": QUOTES_IGNORED("grant_ownership.go on.object_name: suppressIdentifierQuoting"),
  },
  [SNOWFLAKE_TYPES.schema]: {
    name: QUOTES_IGNORED("schema.go name: suppressIdentifierQuoting"),
    database: QUOTES_IGNORED("schema.go database: ForceNew, suppressIdentifierQuoting"),
    withManagedAccess: { form: "boolean string", source: "schema.go with_managed_access: validateBooleanString, compared with SHOW options" },
    isTransient: { form: "boolean string", source: "schema.go is_transient: ForceNew, validateBooleanString" },
    comment: AS_SENT("schema.go ReadContextSchema: comment from SHOW SCHEMAS, as set"),
  },
  [SNOWFLAKE_TYPES.serviceUser]: {
    name: QUOTES_IGNORED("user.go name: suppressIdentifierQuoting (name is never read back)"),
    comment: AS_SENT("user.go GetReadUserFunc: comment from DESCRIBE USER, as set"),
    rsaPublicKey: { form: "key body", source: "user.go GetReadUserFunc: setFromStringPropertyIfNotEmpty(rsa_public_key) from DESCRIBE USER" },
    rsaPublicKey2: { form: "key body", source: "user.go GetReadUserFunc: setFromStringPropertyIfNotEmpty(rsa_public_key_2) from DESCRIBE USER" },
    defaultRole: QUOTES_IGNORED("user.go default_role: suppressIdentifierQuoting"),
    defaultWarehouse: QUOTES_IGNORED("user.go default_warehouse: suppressIdentifierQuoting"),
  },
  [SNOWFLAKE_TYPES.authenticationPolicy]: {
    database: QUOTES_IGNORED("authentication_policy.go database: ForceNew, suppressIdentifierQuoting"),
    schema: QUOTES_IGNORED("authentication_policy.go schema: ForceNew, suppressIdentifierQuoting"),
    name: QUOTES_IGNORED("authentication_policy.go name: ForceNew, suppressIdentifierQuoting"),
    "authenticationMethods[]": UPPER("authentication_policy.go ReadContextAuthenticationPolicy: AUTHENTICATION_METHODS from DESCRIBE"),
    mfaEnrollment: {
      form: "always sent, ignored",
      value: "OPTIONAL",
      source: "authentication_policy.go mfa_enrollment: Default OPTIONAL, always sent; Read stores DESCRIBE's MFA_ENROLLMENT, which Snowflake reports otherwise",
    },
    comment: AS_SENT("authentication_policy.go: comment from SHOW AUTHENTICATION POLICIES, as set"),
  },
  [SNOWFLAKE_TYPES.userAuthenticationPolicy]: {
    userName: { form: "bare name", source: "user_authentication_policy_attachment.go ReadUserAuthenticationPolicyAttachment: d.Set(user_name, userName.Name()); ForceNew, no DiffSuppressFunc" },
    authenticationPolicyName: QUOTES_IGNORED("user_authentication_policy_attachment.go: ForceNew; Read stores SchemaObjectIdentifier.FullyQualifiedName(), all parts quoted; keep it quoted"),
  },
  [SNOWFLAKE_TYPES.procedureSql]: {
    database: QUOTES_IGNORED("procedure_commons.go database: ForceNew, suppressIdentifierQuoting"),
    schema: QUOTES_IGNORED("procedure_commons.go schema: ForceNew, suppressIdentifierQuoting"),
    name: QUOTES_IGNORED("procedure_commons.go name: suppressIdentifierQuoting"),
    "arguments[].argName": UPPER("procedure_commons.go arguments.arg_name: ForceNew; read back from DESCRIBE in upper case"),
    "arguments[].argDataType": AS_SENT("procedure_commons.go arguments.arg_data_type: DiffSuppressDataTypes"),
    returnType: AS_SENT("procedure_commons.go return_type: ForceNew, DiffSuppressDataTypes"),
    executeAs: UPPER("procedure_commons.go execute_as: NormalizeAndCompare(sdk.ToExecuteAs)"),
    procedureDefinition: AS_SENT("procedure_commons.go procedure_definition: ForceNew, DiffSuppressStatement (whitespace folded, case ignored)"),
    comment: AS_SENT("procedure_commons.go: comment from SHOW PROCEDURES, as set"),
  },
};

/** The provider's identifier parser (sdk.ParseIdentifierString): double-quoted parts may hold dots, "" is a quote. */
const parsesAsIdentifier = (value: string): boolean => {
  if (value === "" || /^\./.test(value) || /\.$/.test(value)) return false;
  return identifierParts(value).every((part) => part !== "");
};

function check(rule: FieldRule, value: unknown, ignored: boolean): string | undefined {
  if (typeof value !== "string") return typeof value === "boolean" || typeof value === "number" ? `is ${typeof value}, the provider keeps a string` : undefined;
  switch (rule.form) {
    case "as sent":
      return undefined;
    case "identifier, quotes ignored":
      return parsesAsIdentifier(value) ? undefined : `"${value}" is not an identifier the provider can parse`;
    case "bare name":
      return /^[A-Z_][A-Z0-9_$]*$/.test(value) ? undefined : `"${value}" is read back as the bare name ${identifierParts(value).at(-1)}, and the field is ForceNew: it would be replaced on every up`;
    case "upper case":
      return value === value.toUpperCase() ? undefined : `"${value}" is read back as ${value.toUpperCase()}`;
    case "boolean string":
      return value === "true" || value === "false" ? undefined : `"${value}" is not "true" or "false"`;
    case "key body":
      return /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? undefined : "is read back as the bare base64 body (no armour, no line breaks)";
    case "always sent, ignored":
      if (value !== rule.value) return `is "${value}", but the provider always sends ${rule.value}`;
      return ignored ? undefined : "must be in ignoreChanges: Snowflake reports it in another form, a perpetual diff";
  }
}

/** Every (path, value) of an input tree, arrays as `[]`. */
function leaves(value: unknown, path: string): [string, unknown][] {
  if (Array.isArray(value)) return value.flatMap((item) => leaves(item, `${path}[]`));
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([key, v]) => leaves(v, path === "" ? key : `${path}.${key}`));
  return [[path, value]];
}

export interface StoredFormResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  ignoreChanges?: readonly string[];
}

/** Inputs of a Snowflake resource that the provider would read back in another form, or that no rule covers. */
export function storedFormProblems(resource: StoredFormResource): string[] {
  const rules = STORED_FORMS[resource.type];
  if (rules === undefined) return [`${resource.type} ${resource.name}: no stored-form rules for this resource type; read its provider source and add them`];
  const ignored = new Set(resource.ignoreChanges ?? []);
  const problems: string[] = [];
  for (const [path, value] of leaves(resource.inputs, "")) {
    const rule = rules[path];
    if (rule === undefined) {
      problems.push(`${resource.type} ${resource.name}: input ${path} has no stored-form rule; read the provider's schema and Read for it and add one`);
      continue;
    }
    const problem = check(rule, value, ignored.has(path));
    if (problem) problems.push(`${resource.type} ${resource.name}: ${path} ${problem} (${rule.source})`);
  }
  for (const [path, rule] of Object.entries(rules))
    if (rule.form === "always sent, ignored" && !(path in resource.inputs))
      problems.push(`${resource.type} ${resource.name}: ${path} is not set, but the provider always sends ${rule.value}; set it and ignore its changes (${rule.source})`);
  return problems;
}

/** Types whose replacement must delete first: creating the new one beside the old fails, or the old one's delete undoes it. */
export const DELETE_BEFORE_REPLACE: Record<string, string> = {
  [SNOWFLAKE_TYPES.userAuthenticationPolicy]: "ALTER USER … SET AUTHENTICATION POLICY fails on a user that has one, and the old attachment's delete would UNSET the new one",
  [SNOWFLAKE_TYPES.authenticationPolicy]: "a policy of the same name already exists",
  [SNOWFLAKE_TYPES.grantOwnership]: "deleting the old one hands ownership back to the provisioner after the new one granted it",
  [SNOWFLAKE_TYPES.procedureSql]: "the provider has no CREATE OR REPLACE: the same name already exists",
  [SNOWFLAKE_TYPES.grantAccountRole]: "the new GRANT is a no-op while the old one exists, and the old one's REVOKE then removes it",
  [SNOWFLAKE_TYPES.grantPrivileges]: "the new GRANT is a no-op while the old one exists, and the old one's REVOKE then removes it",
};
