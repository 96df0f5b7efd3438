import { dirname, join } from "node:path";

/**
 * Captures what the functions log while `work` runs. firebase-functions' logger writes through the console
 * methods it captured when it loaded (silenced in tests), so those are swapped for the duration.
 */
export async function captureLogs(work: () => Promise<void>): Promise<string> {
  const common = join(dirname(require.resolve("firebase-functions/logger")), "common.js");
  const sink = require(common).UNPATCHED_CONSOLE as Record<string, (line: string) => void>;
  const saved = { ...sink };
  const lines: string[] = [];
  for (const method of Object.keys(sink)) sink[method] = (line) => lines.push(String(line));
  try {
    await work();
  } finally {
    Object.assign(sink, saved);
  }
  return lines.join("\n");
}
