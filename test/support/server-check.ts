import { checkServerPlacement } from "../../infra/sandbox/server";
import { ServerSetupError } from "../../infra/sandbox/server-user";

// Before any test file runs: where no throwaway server can start (root, and the `postgres` OS user can reach neither
// the binaries nor a temporary directory), the run stops at once with the one line that says what to do, rather than
// every database test failing in its setup and being counted as skipped.
export default async function checkDatabaseTests(): Promise<void> {
  try {
    await checkServerPlacement();
  } catch (error) {
    if (!(error instanceof ServerSetupError)) throw error;
    process.stderr.write(`The database tests cannot start PostgreSQL here: ${error.message}\n`);
    process.exit(1);
  }
}
