// The policies of the pack, every one mandatory: D1–D7 of DESIGN.md on the resources of a stack, whoever wrote them.
// Types only from @pulumi/policy: loading this module starts nothing, so tests call the policies directly.

import type {
  Policies, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";
import { resourceOf, type Resource } from "./facts";
import {
  postgresProdWriterHolders, postgresProdWrites, postgresPublicOnProd, postgresUnprotectedProdSchema,
} from "./postgres";
import {
  snowflakePasswordServiceUsers, snowflakeProdWriterHolders, snowflakeProdWrites, snowflakePublicOnProd,
  snowflakeUnmanagedProdSchema, snowflakeUnprotectedProdSchema,
} from "./snowflake";
import { prodWriterMemberships, prodWritersReadBack, serviceUsersKeyPairOnly } from "./stack";
import { restrictedCopiesStayWithReaders } from "./copies";

type Check = (r: Resource) => string[];

/** A resource policy from checks on one resource; each message is reported against that resource. */
function resourcePolicy(name: string, description: string, checks: Check[]): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      const resource = resourceOf(args);
      for (const check of checks) for (const message of check(resource)) reportViolation(message);
    },
  };
}

/** A stack policy from a check over every resource of the stack. */
function stackPolicy(name: string, description: string, check: (rs: Resource[]) => string[]): StackValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      for (const message of check(args.resources.map(resourceOf))) reportViolation(message);
    },
  };
}

export const prodWriteOnlyByProdWriter = resourcePolicy(
  "prod-write-only-by-prod-writer",
  "D1: no grant, default privilege, ownership or role attribute gives anything but prod_writer write on a prod_ schema or its objects.",
  [postgresProdWrites, snowflakeProdWrites],
);

export const prodWriterGrantedOnlyToServiceAccounts = resourcePolicy(
  "prod-writer-granted-only-to-service-accounts",
  "D2: prod_writer is not granted to a group role, a developer's or CI's role, or a person, and nobody else can grant it.",
  [postgresProdWriterHolders, snowflakeProdWriterHolders],
);

export const noPublicOnProd = resourcePolicy(
  "no-public-on-prod",
  "D3: PUBLIC holds nothing on prod_ schemas or their objects.",
  [postgresPublicOnProd, snowflakePublicOnProd],
);

export const prodSchemasProtected = resourcePolicy(
  "prod-schemas-protected",
  "D6: every prod_ schema is registered with protect, so the tool never drops one.",
  [postgresUnprotectedProdSchema, snowflakeUnprotectedProdSchema],
);

export const prodSchemasManagedAccess = resourcePolicy(
  "prod-schemas-managed-access",
  "D7: every Snowflake prod_ schema is managed access.",
  [snowflakeUnmanagedProdSchema],
);

export const serviceUsersWithoutPassword = resourcePolicy(
  "service-users-without-password",
  "D7: no Snowflake service user has a password.",
  [snowflakePasswordServiceUsers],
);

export const prodWriterHeldOnlyByProdServiceAccounts = stackPolicy(
  "prod-writer-held-only-by-prod-service-accounts",
  "D2: every login or user that reaches prod_writer, through any chain of memberships or role ownership, is a prod service account holding it directly.",
  prodWriterMemberships,
);

export const prodWritersReadBackFromStack = stackPolicy(
  "prod-writers-read-back-from-stack",
  "D1: read back from every grant, ownership and membership in the stack, only prod service accounts can write to prod_ schemas.",
  prodWritersReadBack,
);

export const restrictedCopiesStayWithReadersPolicy = stackPolicy(
  "restricted-copies-stay-with-readers",
  "D5: a restricted domain's developer copies (<dev>_<domain>) are owned by the provisioner, granted to their developer's role alone, and managed access on Snowflake, so nobody can share one.",
  restrictedCopiesStayWithReaders,
);

export const serviceUsersKeyPairOnlyPolicy = stackPolicy(
  "service-users-key-pair-only",
  "D7: every Snowflake service user has an authentication policy that allows key-pair authentication only.",
  serviceUsersKeyPairOnly,
);

export const resourcePolicies: ResourceValidationPolicy[] = [
  prodWriteOnlyByProdWriter,
  prodWriterGrantedOnlyToServiceAccounts,
  noPublicOnProd,
  prodSchemasProtected,
  prodSchemasManagedAccess,
  serviceUsersWithoutPassword,
];

export const stackPolicies: StackValidationPolicy[] = [
  prodWriterHeldOnlyByProdServiceAccounts,
  prodWritersReadBackFromStack,
  restrictedCopiesStayWithReadersPolicy,
  serviceUsersKeyPairOnlyPolicy,
];

export const policies: Policies = [...resourcePolicies, ...stackPolicies];
