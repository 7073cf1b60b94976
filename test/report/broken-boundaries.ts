import type { Boundary } from "../../infra/boundary/model";

// Hand-built violations: the builder never produces these, so the paths that report them are fed a broken boundary.

/** dev_alice is granted write on prod_sales: a D1 violation. */
export const aliceWritesProdSales = (boundary: Boundary): Boundary => ({
  ...structuredClone(boundary),
  grants: [...boundary.grants, { role: "dev_alice", schema: "prod_sales", access: "write" }],
});

/** dev_bob is made a member of prod_writer: a D2 violation on every prod schema. */
export const bobHoldsProdWriter = (boundary: Boundary): Boundary => ({
  ...structuredClone(boundary),
  memberships: [...boundary.memberships, { member: "dev_bob", role: "prod_writer" }],
});

/** PUBLIC is granted write on prod_marketing: D1's writer set and D3 at once. */
export const publicWritesProdMarketing = (boundary: Boundary): Boundary => ({
  ...structuredClone(boundary),
  grants: [...boundary.grants, { role: "public", schema: "prod_marketing", access: "write" }],
});
