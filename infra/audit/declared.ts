import { accessPaths, type AccessPath } from "../boundary/access";
import type { Boundary } from "../boundary/model";
import { PROVISIONER, type ProdWriters, type WritePath } from "./writers";

// Who can write to each prod schema according to the declared boundary: what team.yaml grants, not what the warehouse holds.

/** PUBLIC reaches every login, so one entry per PUBLIC chain tells the whole story. */
const publicWriter = (p: AccessPath): WritePath => ({ principal: "PUBLIC", kind: "public", chain: ["PUBLIC", ...p.via], from: "public grant", admin: false });

/** The identity running `pulumi up` owns what the boundary leaves without an owner role. */
const PROVISIONER_OWNER: WritePath = { principal: PROVISIONER, kind: "provisioner", chain: [PROVISIONER], from: "ownership", admin: true };

// accessPaths repeats PUBLIC's access for every principal.
const uniqueChains = (paths: WritePath[]): WritePath[] => [...new Map(paths.map((w) => [w.chain.join("\u0000"), w])).values()];

export function declaredWriters(boundary: Boundary): ProdWriters {
  const principals = new Map(boundary.principals.map((p) => [p.name, p]));
  const writesOn = new Map<string, AccessPath[]>();
  for (const p of accessPaths(boundary)) {
    if (p.access !== "write") continue;
    const list = writesOn.get(p.schema);
    if (list) list.push(p);
    else writesOn.set(p.schema, [p]);
  }

  const throughRoles = (p: AccessPath): WritePath => {
    const who = principals.get(p.principal);
    if (who === undefined) throw new Error(`access path for unknown principal ${p.principal}`);
    return {
      principal: who.name,
      kind: who.kind,
      ...(who.purpose === undefined ? {} : { purpose: who.purpose }),
      chain: [who.name, ...p.via],
      from: p.source === "owner" ? "ownership" : "grant",
      admin: false,
    };
  };

  return {
    source: "declared",
    schemas: boundary.schemas
      .filter((s) => s.kind === "prod")
      .map((schema) => {
        const writes = writesOn.get(schema.name) ?? [];
        return {
          schema: schema.name,
          domain: schema.domain,
          restricted: schema.restricted,
          writers: [
            ...writes.filter((p) => p.source !== "public").map(throughRoles),
            ...uniqueChains(writes.filter((p) => p.source === "public").map(publicWriter)),
            ...(schema.owner === null ? [PROVISIONER_OWNER] : []),
          ],
        };
      }),
  };
}
