import type { Firestore } from "firebase-admin/firestore";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { isolatedProjectId, testFirestore } from "./emulators";
import { PushHarness, startPushHarness } from "./push-harness";

export interface FeatureFakes {
  db: Firestore;
  fake: ButterflyMxFake;
  push: PushHarness;
}

/**
 * For a test file that works with ButterflyMX and pushes: its own emulated project, the local ButterflyMX and the local
 * FCM / APNs servers, started before its first test, emptied and reset before each, closed after the file. `fake`
 * and `push` exist once the file's first `beforeAll` has run.
 */
export function useFeatureFakes(testFile: string): FeatureFakes {
  const firestore = testFirestore(isolatedProjectId(testFile));
  const fakes = { db: firestore.db } as FeatureFakes;
  beforeAll(async () => {
    [fakes.fake, fakes.push] = await Promise.all([ButterflyMxFake.start(), startPushHarness(firestore.projectId)]);
  });
  beforeEach(async () => {
    await firestore.clear();
    fakes.fake.reset();
    fakes.push.fcm.reset();
    fakes.push.apns.reset();
  });
  afterAll(async () => {
    await Promise.all([fakes.fake.close(), fakes.push.close(), firestore.close()]);
  });
  return fakes;
}
