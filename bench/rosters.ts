import { stringify } from "yaml";
import { snowflakeName } from "../infra/roster/naming";
import type { Roster } from "../infra/roster/types";

// The synthetic rosters every benchmark uses, so their figures describe the same teams.

/** A roster shaped like a large team: every tenth domain restricted to every seventh developer, everyone on every domain they may read. */
export function syntheticRoster(developerCount: number, domainCount: number): Roster {
  const developerNames = Array.from({ length: developerCount }, (_, i) => `u${String(i).padStart(4, "0")}`);
  const domains = Array.from({ length: domainCount }, (_, i) => {
    const restricted = i % 10 === 9;
    return {
      name: `domain${String(i).padStart(2, "0")}`,
      description: `Synthetic domain ${i}`,
      restricted,
      readers: restricted ? developerNames.filter((_, d) => d % 7 === 0) : [],
    };
  });
  return {
    domains,
    developers: developerNames.map((name) => ({
      name,
      email: `${name}@acme.example`,
      domains: domains.filter((d) => !d.restricted || d.readers.includes(name)).map((d) => d.name),
      snowflakeUser: snowflakeName(name),
      postgresLogin: name,
    })),
    serviceAccounts: [
      { name: "svc_prod", purpose: "prod", snowflakeUser: "SVC_PROD", postgresLogin: "svc_prod" },
      { name: "svc_ci", purpose: "ci", snowflakeUser: "SVC_CI", postgresLogin: "svc_ci" },
    ],
  };
}

/** The same roster as team.yaml text, developers without `domains` so the default (every readable domain) applies. */
export const rosterYaml = (roster: Roster): string =>
  stringify({
    domains: roster.domains.map((d) => ({
      name: d.name,
      description: d.description,
      ...(d.restricted ? { restricted: true, readers: d.readers } : {}),
    })),
    developers: roster.developers.map((d) => ({ name: d.name, email: d.email })),
    service_accounts: roster.serviceAccounts.map((a) => ({ name: a.name, purpose: a.purpose })),
  });
