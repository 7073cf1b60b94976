import {
  CI_BUILDER, CI_SCHEMA_PREFIX, PROD_READER, PROD_WRITER, developerRoleName, developerSchemaName,
  prodSchemaName, restrictedReaderRoleName,
} from "../roster/naming";
import type { Roster } from "../roster/types";
import type { Boundary, Membership, Principal, Role, Schema, SchemaGrant } from "./model";

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const byKey = <T>(key: (item: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
/** Each distinct value once, sorted: a roster list that names something twice still means it once. */
const distinct = (values: readonly string[]): string[] => [...new Set(values)].sort();

/** The boundary a valid roster declares. Sorted throughout, so roster order never shows. */
export function buildBoundary(roster: Roster): Boundary {
  const principals: Principal[] = [
    ...roster.developers.map((d): Principal => ({
      name: d.name, kind: "developer", email: d.email,
      logins: { postgres: d.postgresLogin, snowflake: d.snowflakeUser },
    })),
    ...roster.serviceAccounts.map((a): Principal => ({
      name: a.name, kind: "service", purpose: a.purpose,
      logins: { postgres: a.postgresLogin, snowflake: a.snowflakeUser },
      ...(a.rsaPublicKey === undefined ? {} : { rsaPublicKey: a.rsaPublicKey }),
      ...(a.rsaPublicKey2 === undefined ? {} : { rsaPublicKey2: a.rsaPublicKey2 }),
    })),
  ];

  const restricted = roster.domains.filter((d) => d.restricted);
  const roles: Role[] = [
    { name: PROD_WRITER, kind: "prod_writer" },
    { name: PROD_READER, kind: "prod_reader" },
    { name: CI_BUILDER, kind: "ci_builder" },
    ...restricted.map((d): Role => ({ name: restrictedReaderRoleName(d.name), kind: "restricted_reader", of: d.name })),
    ...roster.developers.map((d): Role => ({ name: developerRoleName(d.name), kind: "developer", of: d.name })),
  ];

  const restrictedDomains = new Set(restricted.map((d) => d.name));
  const ciAccounts = new Set(roster.serviceAccounts.filter((a) => a.purpose === "ci").map((a) => a.name));
  const ciReadable = restricted.filter((d) => d.readers.some((r) => ciAccounts.has(r))).map((d) => d.name).sort();
  // A copy of a restricted domain belongs to the provisioner and its developer's role only creates in it: an owner could
  // grant USAGE on it to anyone (D5), a role that merely creates cannot.
  const developerSchemas = roster.developers.flatMap((dev) =>
    distinct(dev.domains).map((domain): Schema => ({
      name: developerSchemaName(dev.name, domain), kind: "developer", domain, developer: dev.name,
      owner: restrictedDomains.has(domain) ? null : developerRoleName(dev.name), restricted: restrictedDomains.has(domain),
    })),
  );
  const schemas: Schema[] = [
    ...roster.domains.map((d): Schema => ({
      name: prodSchemaName(d.name), kind: "prod", domain: d.name, owner: null, restricted: d.restricted,
      ...(d.restricted ? { readers: distinct(d.readers) } : {}),
    })),
    ...developerSchemas,
  ];

  const grants: SchemaGrant[] = [
    ...roster.domains.flatMap((d) => [
      { role: PROD_WRITER, schema: prodSchemaName(d.name), access: "write" as const },
      { role: d.restricted ? restrictedReaderRoleName(d.name) : PROD_READER, schema: prodSchemaName(d.name), access: "read" as const },
    ]),
    ...developerSchemas.filter((s) => s.owner === null)
      .map((s) => ({ role: developerRoleName(s.developer!), schema: s.name, access: "write" as const })),
  ];

  const memberships: Membership[] = [
    ...roster.developers.flatMap((d) => [
      { member: d.name, role: developerRoleName(d.name) },
      { member: developerRoleName(d.name), role: PROD_READER },
    ]),
    ...restricted.flatMap((d) => distinct(d.readers).filter((r) => !ciAccounts.has(r)).map((reader) => ({ member: developerRoleName(reader), role: restrictedReaderRoleName(d.name) }))),
    // A listed CI account reads through the CI role, which every CI account holds (the roster lists all or none).
    ...ciReadable.map((d) => ({ member: CI_BUILDER, role: restrictedReaderRoleName(d) })),
    ...roster.serviceAccounts.map((a) => ({ member: a.name, role: a.purpose === "prod" ? PROD_WRITER : CI_BUILDER })),
    { member: CI_BUILDER, role: PROD_READER },
  ];

  return {
    principals: principals.sort(byName),
    roles: roles.sort(byName),
    schemas: schemas.sort(byName),
    grants: grants.sort(byKey((g) => `${g.schema}\u0000${g.role}`)),
    memberships: memberships.sort(byKey((m) => `${m.role}\u0000${m.member}`)),
    ciSchemas: { creator: CI_BUILDER, prefix: CI_SCHEMA_PREFIX, restrictedCopies: ciReadable },
  };
}
