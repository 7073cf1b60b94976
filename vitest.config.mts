import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Fails the run in seconds, with one line, where the database tests could not start a server.
    globalSetup: ["test/support/server-check.ts"],
    // Pulumi mocks and runtime state are process-global: each test file gets a fresh module graph.
    isolate: true,
    // CLI tests start ts-node child processes; a cold start takes a second or more on a slow CI machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
