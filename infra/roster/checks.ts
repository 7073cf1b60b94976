import {
  CI_BUILDER, POSTGRES_NAME_LIMIT, PROD_READER, PROD_WRITER, developerRoleName, developerSchemaName,
  prodSchemaName, restrictedReaderRoleName,
} from "./naming";
import type { RosterPath } from "./problems";

// Rules that span entries: they read the raw document leniently, so they run even when the shape is wrong.

export interface RosterFinding {
  path: RosterPath;
  message: string;
}

interface Entry {
  index: number;
  fields: Record<string, unknown>;
}

const entriesOf = (raw: Record<string, unknown>, section: string): Entry[] => {
  const list = raw[section];
  if (!Array.isArray(list)) return [];
  return list.flatMap((fields: unknown, index) =>
    fields !== null && typeof fields === "object" && !Array.isArray(fields)
      ? [{ index, fields: fields as Record<string, unknown> }]
      : [],
  );
};

const text = (entry: Entry, field: string): string | undefined => {
  const value = entry.fields[field];
  return typeof value === "string" ? value : undefined;
};

const textList = (entry: Entry, field: string): { value: string; index: number }[] => {
  const value = entry.fields[field];
  return Array.isArray(value)
    ? value.flatMap((item: unknown, index) => (typeof item === "string" ? [{ value: item, index }] : []))
    : [];
};

const named = (entries: Entry[]) =>
  entries.flatMap((entry) => {
    const name = text(entry, "name");
    return name === undefined ? [] : [{ ...entry, name }];
  });

const oneOf = (names: Iterable<string>): string => {
  const list = [...names];
  return list.length === 0 ? "none are declared" : list.join(", ");
};

function duplicateNames(section: string, kind: string, entries: ReturnType<typeof named>): RosterFinding[] {
  const firstSeen = new Map<string, number>();
  const findings: RosterFinding[] = [];
  for (const entry of entries) {
    const key = entry.name.toLowerCase();
    const first = firstSeen.get(key);
    if (first === undefined) firstSeen.set(key, entry.index);
    else
      findings.push({
        path: [section, entry.index, "name"],
        message: `duplicate ${kind} name "${entry.name}" (also ${section}[${first}]); names must be unique ignoring case. Rename or remove one of them`,
      });
  }
  return findings;
}

interface GeneratedName {
  name: string;
  origin: string;
  path: RosterPath;
}

function generatedNameFindings(namespace: "role" | "schema", generated: GeneratedName[]): RosterFinding[] {
  const findings: RosterFinding[] = [];
  const firstOrigin = new Map<string, GeneratedName>();
  for (const candidate of generated) {
    const bytes = Buffer.byteLength(candidate.name, "utf8");
    if (bytes > POSTGRES_NAME_LIMIT) {
      findings.push({
        path: candidate.path,
        message: `generated ${namespace} name "${candidate.name}" (${candidate.origin}) is ${bytes} bytes, over PostgreSQL's ${POSTGRES_NAME_LIMIT}-byte limit. Shorten the name`,
      });
    }
    const first = firstOrigin.get(candidate.name);
    if (first === undefined) firstOrigin.set(candidate.name, candidate);
    else if (first.origin !== candidate.origin)
      findings.push({
        path: candidate.path,
        message: `generated ${namespace} name "${candidate.name}" (${candidate.origin}) collides with ${first.origin}. Rename one of them`,
      });
  }
  return findings;
}

export function crossFieldFindings(raw: Record<string, unknown>): RosterFinding[] {
  const domains = named(entriesOf(raw, "domains"));
  const developers = named(entriesOf(raw, "developers"));
  const serviceAccounts = named(entriesOf(raw, "service_accounts"));
  const domainNames = new Set(domains.map((d) => d.name));
  const developerNames = new Set(developers.map((d) => d.name));
  const findings: RosterFinding[] = [
    ...duplicateNames("domains", "domain", domains),
    ...duplicateNames("developers", "developer", developers),
    ...duplicateNames("service_accounts", "service account", serviceAccounts),
  ];

  const restrictedReaders = new Map<string, Set<string>>();
  for (const domain of domains) {
    const restricted = domain.fields.restricted === true;
    const readers = textList(domain, "readers");
    if (restricted) restrictedReaders.set(domain.name, new Set(readers.map((r) => r.value)));
    else if (readers.length > 0)
      findings.push({
        path: ["domains", domain.index, "readers"],
        message: `readers only apply to restricted domains, and "${domain.name}" is not restricted. Add \`restricted: true\` or remove readers`,
      });
    for (const reader of readers) {
      if (!developerNames.has(reader.value))
        findings.push({
          path: ["domains", domain.index, "readers", reader.index],
          message: `"${reader.value}" is not a developer in this roster (developers: ${oneOf(developerNames)}). Add them to developers or remove them from readers`,
        });
    }
  }

  for (const developer of developers) {
    for (const domain of textList(developer, "domains")) {
      if (!domainNames.has(domain.value))
        findings.push({
          path: ["developers", developer.index, "domains", domain.index],
          message: `"${domain.value}" is not a domain in this roster (domains: ${oneOf(domainNames)}). Fix the spelling or add the domain`,
        });
      else if (restrictedReaders.get(domain.value)?.has(developer.name) === false)
        findings.push({
          path: ["developers", developer.index, "domains", domain.index],
          message: `"${domain.value}" is restricted and ${developer.name} is not one of its readers. Add ${developer.name} to that domain's readers or remove the domain here`,
        });
    }
  }

  const seenServiceAccounts = new Set(developers.map((d) => d.name.toLowerCase()));
  for (const account of serviceAccounts) {
    if (seenServiceAccounts.has(account.name.toLowerCase()))
      findings.push({
        path: ["service_accounts", account.index, "name"],
        message: `service account "${account.name}" has the same name as a developer; logins would collide. Rename the service account, e.g. "svc_${account.name}"`,
      });
  }
  if (Array.isArray(raw.service_accounts) && !serviceAccounts.some((a) => a.fields.purpose === "prod"))
    findings.push({
      path: ["service_accounts"],
      message: "no service account has `purpose: prod`, so nothing could write to prod schemas. Add the production runner's account with purpose: prod",
    });

  const roles: GeneratedName[] = [PROD_WRITER, PROD_READER, CI_BUILDER].map((name) => ({ name, origin: `built-in role ${name}`, path: [] }));
  for (const developer of developers) {
    const path = ["developers", developer.index];
    roles.push({ name: developerRoleName(developer.name), origin: `role of developer ${developer.name}`, path: [...path, "name"] });
    const login = text(developer, "postgres_login") ?? developer.name;
    const loginPath = text(developer, "postgres_login") === undefined ? [...path, "name"] : [...path, "postgres_login"];
    roles.push({ name: login, origin: `PostgreSQL login of developer ${developer.name}`, path: loginPath });
  }
  for (const account of serviceAccounts)
    roles.push({ name: account.name, origin: `login of service account ${account.name}`, path: ["service_accounts", account.index, "name"] });
  for (const domain of domains)
    if (domain.fields.restricted === true)
      roles.push({ name: restrictedReaderRoleName(domain.name), origin: `reader role of restricted domain ${domain.name}`, path: ["domains", domain.index, "name"] });

  const schemas: GeneratedName[] = domains.map((domain) => ({
    name: prodSchemaName(domain.name),
    origin: `prod schema of domain ${domain.name}`,
    path: ["domains", domain.index, "name"],
  }));
  for (const developer of developers) {
    const listed = textList(developer, "domains").map((d) => d.value);
    for (const domain of listed.length > 0 ? listed : [...domainNames])
      schemas.push({
        name: developerSchemaName(developer.name, domain),
        origin: `schema of developer ${developer.name} for domain ${domain}`,
        path: ["developers", developer.index, "name"],
      });
  }

  const snowflakeUsers = new Map<string, string>();
  for (const [section, entries] of [["developers", developers], ["service_accounts", serviceAccounts]] as const) {
    for (const entry of entries) {
      const user = (text(entry, "snowflake_user") ?? entry.name).toUpperCase();
      const other = snowflakeUsers.get(user);
      if (other !== undefined)
        findings.push({
          path: [section, entry.index, text(entry, "snowflake_user") === undefined ? "name" : "snowflake_user"],
          message: `Snowflake user ${user} is also used by ${other}; one Snowflake user cannot be two people. Set a distinct snowflake_user`,
        });
      else snowflakeUsers.set(user, `${section}[${entry.index}]`);
    }
  }

  return [...findings, ...generatedNameFindings("role", roles), ...generatedNameFindings("schema", schemas)];
}
