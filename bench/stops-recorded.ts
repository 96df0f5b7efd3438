// The benchmarks measure the floor only once the calls' stops are recorded: the Firestore emulator delivers events
// one at a time and waits for each function, so a floor measured during a stop's last writes queues behind their
// events (docs/PERFORMANCE.md, top).
import { Firestore } from "firebase-admin/firestore";

/** Resolves once every one of these calls has its stop recorded as finished, reading them every 5 ms. */
export async function stopsRecorded(db: Firestore, guids: string[], deadlineMs = 30_000): Promise<void> {
  const refs = guids.map((guid) => db.doc(`calls/${guid}`));
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const snapshots = await db.getAll(...refs);
    const open = snapshots.filter((snapshot) => snapshot.get("delivery.stop.state") !== "stopped");
    if (open.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the stops of ${open.length} call(s) were not recorded within ${deadlineMs} ms (${open[0].id}, …)`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
