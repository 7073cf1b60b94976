import {
  DEVELOPER_RULE, DOMAIN_RULE, POSTGRES_LOGIN_RULE, SERVICE_ACCOUNT_RULE, SNOWFLAKE_USER_RULE, closest, listOf, nameProblem,
  quote, type NameRule,
} from "./identifiers";
import {
  CI_BUILDER, POSTGRES_NAME_LIMIT, PROD_READER, PROD_WRITER, SNOWFLAKE_NAME_LIMIT, developerRoleName, developerSchemaName,
  prodSchemaName, restrictedReaderRoleName,
} from "./naming";
import { formatPath, type RosterPath } from "./problems";

// Rules that span entries. They read the raw document leniently, so they run even when the shape is wrong,
// and they report each mistake once: a name that already breaks its own rule, or an entry that is already a
// duplicate, does not go on to produce generated-name collisions that renaming it would fix anyway.

export interface RosterFinding {
  path: RosterPath;
  message: string;
}

interface Entry {
  section: string;
  index: number;
  fields: Record<string, unknown>;
}

interface Named extends Entry {
  name: string;
  /** The name follows its naming rule (and is not reserved). */
  valid: boolean;
  /** An earlier entry of the same section has this name, ignoring case. */
  duplicate: boolean;
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const entriesOf = (raw: Record<string, unknown>, section: string): Entry[] => {
  const list = raw[section];
  if (!Array.isArray(list)) return [];
  return list.flatMap((fields: unknown, index) => (isMapping(fields) ? [{ section, index, fields }] : []));
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

const label = (entry: Entry): string => `${entry.section}[${entry.index}]`;

/** A name as it appears inside a message: bare when it follows its rule, quoted and escaped when it does not. */
const shown = (entry: Named): string => (entry.valid ? entry.name : quote(entry.name));

function named(raw: Record<string, unknown>, section: string, rule: NameRule): Named[] {
  const seen = new Set<string>();
  return entriesOf(raw, section).flatMap((entry) => {
    const name = text(entry, "name");
    if (name === undefined) return [];
    const key = name.toLowerCase();
    const duplicate = seen.has(key);
    seen.add(key);
    return [{ ...entry, name, valid: nameProblem(rule, name) === undefined, duplicate }];
  });
}

function duplicateNames(kind: string, entries: Named[]): RosterFinding[] {
  const first = new Map<string, Named>();
  const findings: RosterFinding[] = [];
  for (const entry of entries) {
    const earlier = first.get(entry.name.toLowerCase());
    if (earlier === undefined) first.set(entry.name.toLowerCase(), entry);
    else
      findings.push({
        path: [entry.section, entry.index, "name"],
        message: `duplicate ${kind} name ${quote(entry.name)} (also ${label(earlier)}); names must be unique ignoring case. Rename or remove one of them`,
      });
  }
  return findings;
}

/** Each repeated item of a list of names, reported once at the repeat. */
function repeats(entry: Entry, field: string, consequence: (value: string) => string): RosterFinding[] {
  const firstIndex = new Map<string, number>();
  return textList(entry, field).flatMap((item) => {
    const first = firstIndex.get(item.value);
    if (first === undefined) {
      firstIndex.set(item.value, item.index);
      return [];
    }
    return [{
      path: [entry.section, entry.index, field, item.index],
      message: `${quote(item.value)} is listed twice (also ${field}[${first}])${consequence(item.value)}. Remove the repeat`,
    }];
  });
}

interface Generated {
  name: string;
  origin: string;
  /** Where a problem with this name is reported. */
  path: RosterPath;
  /** The roster value at `path` that this name is built from. */
  source: string;
  /** Built from a developer and a domain together. */
  combined?: boolean;
}

function collisions(namespace: "role" | "schema", generated: Generated[]): RosterFinding[] {
  const first = new Map<string, Generated>();
  const findings: RosterFinding[] = [];
  for (const candidate of generated) {
    const earlier = first.get(candidate.name);
    if (earlier === undefined) first.set(candidate.name, candidate);
    else
      findings.push({
        path: candidate.path,
        message: `generated ${namespace} name ${quote(candidate.name)} (${candidate.origin}) collides with the ${earlier.origin}. ${
          earlier.path.length === 0 ? "Pick another name" : "Rename one of them"
        }`,
      });
  }
  return findings;
}

const bytes = (name: string): number => Buffer.byteLength(name, "utf8");

/** One finding per roster value that makes generated names too long, listing them and the length that would fit. */
function overLimit(generated: Generated[]): RosterFinding[] {
  const groups = new Map<string, Generated[]>();
  for (const candidate of generated) {
    if (bytes(candidate.name) <= POSTGRES_NAME_LIMIT) continue;
    const key = formatPath(candidate.path);
    const group = groups.get(key);
    if (group) group.push(candidate);
    else groups.set(key, [candidate]);
  }
  return [...groups.values()].map((group) => {
    const head = group[0]!;
    const longestAffix = Math.max(...group.map((g) => bytes(g.name) - bytes(g.source)));
    const shown = group.slice(0, 3).map((g) => `${quote(g.name, 100)} (${bytes(g.name)} bytes)`);
    const more = group.length > 3 ? ` and ${group.length - 3} more` : "";
    const alternative = group.some((g) => g.combined) ? ", or shorten the domain names it is combined with" : "";
    return {
      path: head.path,
      message:
        `is too long: the generated ${group.length === 1 ? "name" : "names"} ${shown.join(", ")}${more} ${group.length === 1 ? "exceeds" : "exceed"} ` +
        `PostgreSQL's ${POSTGRES_NAME_LIMIT}-byte identifier limit, and PostgreSQL would silently truncate ${group.length === 1 ? "it" : "them"}. ` +
        `Shorten it to at most ${POSTGRES_NAME_LIMIT - longestAffix} characters${alternative}`,
    };
  });
}

export function crossFieldFindings(raw: Record<string, unknown>): RosterFinding[] {
  const domains = named(raw, "domains", DOMAIN_RULE);
  const developers = named(raw, "developers", DEVELOPER_RULE);
  const serviceAccounts = named(raw, "service_accounts", SERVICE_ACCOUNT_RULE);
  const domainNames = new Set(domains.map((d) => d.name));
  const developerNames = new Set(developers.map((d) => d.name));
  const findings: RosterFinding[] = [
    ...duplicateNames("domain", domains),
    ...duplicateNames("developer", developers),
    ...duplicateNames("service account", serviceAccounts),
  ];

  /** A name that matches an entry only ignoring case, where that entry's own name is already reported as invalid. */
  const explainedByInvalid = (value: string, entries: Named[]) =>
    entries.some((e) => !e.valid && e.name.toLowerCase() === value.toLowerCase());

  // Restricted domains and their readers.
  const readersOf = new Map<string, Set<string>>();
  for (const domain of domains) {
    const restricted = domain.fields.restricted === true;
    const readers = textList(domain, "readers");
    if (restricted) readersOf.set(domain.name, new Set(readers.map((r) => r.value)));
    else if (readers.length > 0)
      findings.push({
        path: ["domains", domain.index, "readers"],
        message: `readers only apply to restricted domains, and ${quote(domain.name)} is not restricted. Add \`restricted: true\` or remove readers`,
      });
    findings.push(...repeats(domain, "readers", () => ""));
    const reported = new Set<string>();
    for (const reader of readers) {
      if (developerNames.has(reader.value) || reported.has(reader.value) || explainedByInvalid(reader.value, developers)) continue;
      reported.add(reader.value);
      const account = serviceAccounts.find((a) => a.name === reader.value);
      // A CI account may read a restricted domain: CI then builds it, and every CI run (code from any pull request)
      // reads its data, which is why it must be said here, where a reviewer sees it.
      if (account?.fields.purpose === "ci") continue;
      const guess = closest(reader.value, developerNames);
      findings.push({
        path: ["domains", domain.index, "readers", reader.index],
        message: account
          ? `${quote(reader.value)} is a service account (${label(account)}), not a developer or a \`purpose: ci\` account; the prod writer can already read every prod schema. Remove it from readers`
          : `${quote(reader.value)} is not a developer or a \`purpose: ci\` service account in this roster${guess ? ` (did you mean ${quote(guess)}?)` : ""}. Add them to developers or fix the name in readers`,
      });
    }
    // Every CI account holds the one CI role, so the role reads the domain for all of them or for none.
    const ciAccounts = serviceAccounts.filter((a) => a.fields.purpose === "ci");
    const listedCi = ciAccounts.filter((a) => readers.some((r) => r.value === a.name));
    const unlisted = ciAccounts.filter((a) => !listedCi.includes(a));
    if (restricted && listedCi.length > 0 && unlisted.length > 0)
      findings.push({
        path: ["domains", domain.index, "readers"],
        message: `lists CI account ${listOf(listedCi.map((a) => a.name))} but not ${listOf(unlisted.map((a) => a.name))}; every \`purpose: ci\` account holds ${CI_BUILDER}, so all of them would read ${quote(domain.name)}. List every CI account or none`,
      });
  }

  // The domains each developer works on.
  for (const developer of developers) {
    findings.push(...repeats(developer, "domains", (domain) => `, which would create schema ${developerSchemaName(developer.name, domain)} twice`));
    const reported = new Set<string>();
    for (const domain of textList(developer, "domains")) {
      if (reported.has(domain.value)) continue;
      reported.add(domain.value);
      const path = ["developers", developer.index, "domains", domain.index];
      if (!domainNames.has(domain.value)) {
        if (explainedByInvalid(domain.value, domains)) continue;
        const guess = closest(domain.value, domainNames);
        findings.push({
          path,
          message: `${quote(domain.value)} is not a domain in this roster (${guess ? `did you mean ${quote(guess)}?` : `domains: ${listOf(domainNames)}`}). Fix the spelling or add the domain`,
        });
      } else if (readersOf.get(domain.value)?.has(developer.name) === false)
        findings.push({
          path,
          message: `${quote(domain.value)} is restricted and ${shown(developer)} is not one of its readers. Add ${shown(developer)} to that domain's readers or remove the domain here`,
        });
    }
  }

  // Service accounts: unique against developers, and one of them must be the prod writer.
  const developerByName = new Map<string, Named>();
  for (const developer of developers) if (!developerByName.has(developer.name.toLowerCase())) developerByName.set(developer.name.toLowerCase(), developer);
  const clashesWithDeveloper = new Set<Named>();
  for (const account of serviceAccounts) {
    const developer = developerByName.get(account.name.toLowerCase());
    if (developer === undefined) continue;
    clashesWithDeveloper.add(account);
    findings.push({
      path: ["service_accounts", account.index, "name"],
      message: `service account ${quote(account.name)} has the same name as developer ${quote(developer.name)} (${label(developer)}); a name identifies one person or account on every platform (and is their default login). Rename the service account, e.g. "svc_${account.name.toLowerCase()}"`,
    });
  }
  // Only when every purpose is readable: a missing or misspelt purpose may well be the prod one, and is reported itself.
  const purposes = entriesOf(raw, "service_accounts").map((a) => a.fields.purpose);
  if (purposes.length > 0 && purposes.every((p) => p === "ci"))
    findings.push({
      path: ["service_accounts"],
      message: "no service account has `purpose: prod`, so nothing could write to prod schemas. Add the production runner's account with purpose: prod",
    });

  // Snowflake users: one per person or account. Two defaulted users only clash when the names do, which is reported above.
  const snowflakeUsers = new Map<string, { entry: Named; explicit: boolean }>();
  for (const entry of [...developers, ...serviceAccounts.filter((a) => !clashesWithDeveloper.has(a))]) {
    const explicitUser = entry.section === "developers" ? text(entry, "snowflake_user") : undefined;
    if (explicitUser !== undefined && nameProblem(SNOWFLAKE_USER_RULE, explicitUser) !== undefined) continue;
    if (explicitUser !== undefined && [...explicitUser].length > SNOWFLAKE_NAME_LIMIT) {
      findings.push({
        path: [entry.section, entry.index, "snowflake_user"],
        message: `is too long: ${[...explicitUser].length} characters, and a Snowflake user name is at most ${SNOWFLAKE_NAME_LIMIT}. Use the user's Snowflake name`,
      });
      continue;
    }
    const user = (explicitUser ?? entry.name).toUpperCase();
    const other = snowflakeUsers.get(user);
    if (other === undefined) {
      snowflakeUsers.set(user, { entry, explicit: explicitUser !== undefined });
      continue;
    }
    if (explicitUser === undefined && !other.explicit) continue;
    const [here, there] = explicitUser !== undefined ? [entry, other.entry] : [other.entry, entry];
    findings.push({
      path: [here.section, here.index, "snowflake_user"],
      message: `Snowflake user ${quote(user)} is also the user of ${label(there)} (${shown(there)}); one Snowflake user cannot be two people. Set a distinct snowflake_user`,
    });
  }

  // Generated names, from entries whose own names are good: unique within their namespace, and short enough.
  const good = (entries: Named[]) => entries.filter((e) => e.valid && !e.duplicate);
  const goodDomains = good(domains);
  const goodDevelopers = good(developers);
  const goodAccounts = good(serviceAccounts).filter((a) => !clashesWithDeveloper.has(a));
  const goodDomainNames = new Set(goodDomains.map((d) => d.name));

  const roles: Generated[] = [PROD_WRITER, PROD_READER, CI_BUILDER].map((name) => ({ name, origin: `built-in role ${name}`, path: [], source: name }));
  for (const domain of goodDomains)
    if (readersOf.has(domain.name))
      roles.push({
        name: restrictedReaderRoleName(domain.name), origin: `reader role of restricted domain ${domain.name}`,
        path: ["domains", domain.index, "name"], source: domain.name,
      });
  for (const developer of goodDevelopers)
    roles.push({
      name: developerRoleName(developer.name), origin: `role of developer ${developer.name}`,
      path: ["developers", developer.index, "name"], source: developer.name,
    });
  for (const developer of goodDevelopers) {
    const login = text(developer, "postgres_login");
    if (login !== undefined && nameProblem(POSTGRES_LOGIN_RULE, login) !== undefined) continue;
    roles.push({
      name: login ?? developer.name, origin: `PostgreSQL login of developer ${developer.name}`,
      path: ["developers", developer.index, login === undefined ? "name" : "postgres_login"], source: login ?? developer.name,
    });
  }
  for (const account of goodAccounts)
    roles.push({
      name: account.name, origin: `login of service account ${account.name}`,
      path: ["service_accounts", account.index, "name"], source: account.name,
    });

  const schemas: Generated[] = goodDomains.map((domain) => ({
    name: prodSchemaName(domain.name), origin: `prod schema of domain ${domain.name}`,
    path: ["domains", domain.index, "name"], source: domain.name,
  }));
  // A developer schema that is too long is the domain's to fix when the domain's own names already are.
  const longDomains = new Set(
    [...schemas, ...roles].filter((g) => bytes(g.name) > POSTGRES_NAME_LIMIT && g.path[0] === "domains").map((g) => g.source),
  );
  const domainIndex = new Map(goodDomains.map((d) => [d.name, d.index]));
  for (const developer of goodDevelopers) {
    const listed = textList(developer, "domains").map((d) => d.value);
    const worksOn = developer.fields.domains === undefined
      ? goodDomains.filter((d) => readersOf.get(d.name)?.has(developer.name) ?? true).map((d) => d.name)
      : [...new Set(listed)].filter((d) => goodDomainNames.has(d));
    for (const domain of worksOn) {
      const domainsFault = longDomains.has(domain);
      schemas.push({
        name: developerSchemaName(developer.name, domain),
        origin: `schema of developer ${developer.name} for domain ${domain}`,
        path: domainsFault ? ["domains", domainIndex.get(domain)!, "name"] : ["developers", developer.index, "name"],
        source: domainsFault ? domain : developer.name,
        combined: !domainsFault,
      });
    }
  }

  return [
    ...findings,
    ...collisions("role", roles),
    ...collisions("schema", schemas),
    ...overLimit([...roles, ...schemas]),
  ];
}
