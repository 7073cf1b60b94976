import { defineConfig } from "vitest/config";

// `npm run test:versions`: `pulumi up` as users run it on the PostgreSQL majors `npm test` leaves out (it runs 15 and 18).
export default defineConfig({
  test: {
    include: ["test/sandbox/deploy.test.ts"],
    env: { WAREHOUSE_PG_MAJORS: "14,16,17" },
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
