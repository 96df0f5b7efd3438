// How `npm test`'s phases, in separate process trees, tell each other that something has ended: a file appears.
import { existsSync } from "node:fs";

const WAIT_LIMIT_MS = 15 * 60_000;

/** Returns once `path` exists (at once without a path); polls, as the file comes from another process tree. */
export async function waitForFile(path) {
  if (!path) return;
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${WAIT_LIMIT_MS / 60_000} minutes`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
