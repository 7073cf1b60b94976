import type { SchemaName } from "../boundary/model";

// The answer to "who can write to prod?", whatever it was read from: the declared boundary now, a live warehouse later.

/** Stands for the identity that runs `pulumi up`; parentheses keep it apart from every roster name. */
export const PROVISIONER = "(provisioner)";

export interface WritePath {
  /** A roster name, PROVISIONER, or "PUBLIC". */
  principal: string;
  kind: "developer" | "service" | "provisioner" | "public";
  purpose?: "prod" | "ci";
  /** The principal, then each role walked to the one that holds the write: ["svc_prod", "prod_writer"]. */
  chain: string[];
  from: "grant" | "ownership" | "public grant";
  /** True for paths through administrative identities rather than declared roles. */
  admin: boolean;
}

export interface SchemaWriters {
  schema: SchemaName;
  domain: string;
  restricted: boolean;
  writers: WritePath[];
}

export interface ProdWriters {
  /** Where the answer comes from. */
  source: "declared";
  schemas: SchemaWriters[];
}
