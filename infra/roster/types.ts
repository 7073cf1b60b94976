// The validated roster, in the domain's words: what team.yaml says once every rule holds.

export interface Domain {
  name: string;
  description?: string;
  restricted: boolean;
  /** Developers who may read the restricted domain's prod schema; empty for unrestricted domains. */
  readers: string[];
}

export interface Developer {
  name: string;
  email: string;
  /** Domains this developer gets a personal schema for. */
  domains: string[];
  snowflakeUser: string;
  postgresLogin: string;
}

export type ServiceAccountPurpose = "prod" | "ci";

export interface ServiceAccount {
  name: string;
  purpose: ServiceAccountPurpose;
  /** Base64 body of an RSA public key (no PEM armour), as Snowflake's RSA_PUBLIC_KEY wants it. */
  rsaPublicKey?: string;
  /** The second key Snowflake holds during a rotation (RSA_PUBLIC_KEY_2), in the same form. */
  rsaPublicKey2?: string;
  snowflakeUser: string;
  postgresLogin: string;
}

export interface Roster {
  domains: Domain[];
  developers: Developer[];
  serviceAccounts: ServiceAccount[];
}
