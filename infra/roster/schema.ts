import { z } from "zod";
import {
  DEVELOPER_RULE, DOMAIN_RULE, POSTGRES_LOGIN_RULE, SERVICE_ACCOUNT_RULE, SNOWFLAKE_USER_RULE, nameProblem,
  type NameRule,
} from "./identifiers";
import { POSTGRES_RESERVED_PREFIX, RESERVED_NAMES } from "./naming";
import { rsaPublicKeyProblem } from "./rsa";

// The shape of team.yaml. Each message reads "<what is wrong>. <how to fix>" after the location.

/** The names a rule forbids beyond its pattern, as JSON Schema, so editors flag them too. */
function reservedJsonSchema(rule: NameRule): Record<string, unknown> {
  if (!rule.reserved) return {};
  const words = { enum: [...RESERVED_NAMES].filter((name) => rule.pattern.test(name)).sort() };
  const prefixPossible = rule.pattern.test(`${POSTGRES_RESERVED_PREFIX}x`);
  return { not: prefixPossible ? { anyOf: [words, { pattern: `^${POSTGRES_RESERVED_PREFIX}` }] } : words };
}

/**
 * A name under one of the naming rules: the pattern stays a zod regex (so the JSON Schema carries it), the
 * message comes from `nameProblem`, and the reserved words are checked only once the pattern holds.
 */
const nameUnder = (rule: NameRule, description: string) =>
  z
    .string()
    .regex(rule.pattern, { error: (issue) => nameProblem(rule, String(issue.input)) })
    .check((ctx) => {
      if (!rule.pattern.test(ctx.value)) return;
      const problem = nameProblem(rule, ctx.value);
      if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
    })
    .meta({ description, ...reservedJsonSchema(rule) });

export const domainEntry = z.strictObject({
  name: nameUnder(DOMAIN_RULE, "The domain: prod schema prod_<name>, developer schemas <dev>_<name>. Lowercase letters, digits and underscores."),
  description: z.string().optional().describe("What the domain holds, for people reading the roster."),
  restricted: z.boolean().optional().describe("When true, only the listed readers (and the prod writer) may read prod_<name>."),
  readers: z.array(z.string()).optional().describe("Developers, and `purpose: ci` service accounts, allowed to read a restricted domain (a CI account: CI builds it, and its CI schemas are restricted copies)."),
});

export const developerEntry = z.strictObject({
  name: nameUnder(DEVELOPER_RULE, "Schema prefix and role suffix: schemas <name>_<domain>, role dev_<name>. Lowercase letters and digits, no underscore."),
  email: z
    .email({ error: "is not a valid email address. Write it as name@example.com" })
    .describe("The developer's work email, for people reading the roster and the reports."),
  domains: z.array(z.string()).optional().describe("Domains this developer works on (default: every domain they can read)."),
  snowflake_user: nameUnder(SNOWFLAKE_USER_RULE, "Existing Snowflake user that receives the developer role (default: the name in upper case).").optional(),
  postgres_login: nameUnder(POSTGRES_LOGIN_RULE, "PostgreSQL login role for this developer (default: the name).").optional(),
});

const rsaPublicKey = z.string().check((ctx) => {
  const problem = rsaPublicKeyProblem(ctx.value);
  if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
});

export const SERVICE_ACCOUNT_PURPOSES = ["prod", "ci"] as const;

export const serviceAccountEntry = z.strictObject({
  name: nameUnder(SERVICE_ACCOUNT_RULE, "Login name of the service account on every platform (Snowflake: in upper case)."),
  purpose: z
    .enum(SERVICE_ACCOUNT_PURPOSES, { error: "must be \"prod\" or \"ci\". Use prod for the production runner, ci for CI builds" })
    .describe("prod: the production runner, the only writer of prod_ schemas. ci: CI builds into throwaway ci_ schemas."),
  rsa_public_key: rsaPublicKey
    .optional()
    .describe("Base64 RSA public key for Snowflake key-pair auth (PEM armour allowed). A public key, never a private one. Required when the stack deploys Snowflake."),
  rsa_public_key_2: rsaPublicKey
    .optional()
    .describe("A second RSA public key (Snowflake's RSA_PUBLIC_KEY_2), for rotation: add the new key here, switch the client to it, then move it to rsa_public_key and remove this."),
});

export const rosterFile = z
  .strictObject({
    domains: z.array(domainEntry).min(1, { error: "lists no domain. Add at least one domain" }),
    developers: z.array(developerEntry).min(1, { error: "lists no developer. Add at least one developer" }),
    service_accounts: z.array(serviceAccountEntry).min(1, { error: "lists no service account. Add one with purpose: prod" }),
  })
  .describe("warehouse-access team roster: who builds into which schemas, and who writes to prod.");

export type RosterFile = z.infer<typeof rosterFile>;

/** JSON Schema for editors (yaml-language-server); written to team.schema.json by `npm run schema`. */
export function rosterJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(rosterFile, { target: "draft-7", io: "input" }),
    title: "warehouse-access team roster",
  };
}

/** team.schema.json's exact contents: the JSON Schema pretty-printed, with a trailing newline. */
export const rosterJsonSchemaText = (): string => `${JSON.stringify(rosterJsonSchema(), null, 2)}\n`;
