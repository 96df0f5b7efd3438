import { Timestamp } from "firebase-admin/firestore";
import { CallEvent, parseCallEvent } from "../../src/butterflymx/call-events";
import { applyCallEvent, CallDocument, EventContext, lateStatus, MAX_HISTORY, reconciledCall, timeoutEnding } from "../../src/calls/call-document";
import { createBody, statusBody } from "../helpers/butterflymx-payloads";

const T0 = Timestamp.fromMillis(Date.UTC(2026, 10, 22, 12, 0, 0));
const later = (seconds: number) => Timestamp.fromMillis(T0.toMillis() + seconds * 1000);

function callEvent(body: unknown): CallEvent {
  const parsed = parseCallEvent(body);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.event;
}

function context(body: unknown, overrides: Partial<EventContext> = {}): EventContext {
  return { event: callEvent(body), recipients: ["uid-a"], via: "tenant:t1", now: T0, retentionDays: 30, ...overrides };
}

/** Applies events in order, as the repository would, and returns the stored document. */
function replay(...contexts: EventContext[]): CallDocument {
  let stored: CallDocument | undefined;
  for (const c of contexts) {
    const { change } = applyCallEvent(stored, c);
    if (change.kind === "create") stored = change.document;
    if (change.kind === "update") stored = { ...stored!, ...change.fields };
  }
  return stored!;
}

const call = createBody({ guid: "BA17520F-8768-4723-88F9-5EAA2C35171A", image_url: "https://s3.example.com/v.jpg" });

describe("applyCallEvent", () => {
  it("creates a ringing call from the create event", () => {
    const outcome = applyCallEvent(undefined, context(call));
    expect(outcome).toMatchObject({ status: "ringing", duplicate: false, recipients: ["uid-a"] });
    if (outcome.change.kind !== "create") throw new Error("expected a create");
    const document = outcome.change.document;
    expect(document).toEqual({
      guid: "ba17520f-8768-4723-88f9-5eaa2c35171a",
      status: "ringing",
      bmxStatus: "initializing",
      recipients: ["uid-a"],
      bmxUserId: "3220259",
      panel: { id: "28516", name: "Front Door" },
      unit: { id: "1859622", label: "4B" },
      visitorImageUrl: "https://s3.example.com/v.jpg",
      createdAt: T0,
      updatedAt: T0,
      history: [{ event: "create", bmxStatus: "initializing", status: "ringing", applied: true, via: "tenant:t1", at: T0 }],
      delivery: { state: "pending" },
      expireAt: Timestamp.fromMillis(T0.toMillis() + 30 * 86_400_000),
    });
    // The raw ButterflyMX object (names, email, SIP user) stays out of the document the recipients read.
    expect(outcome.bmxCall).toBe(JSON.stringify(callEvent(call).call));
    expect(JSON.parse(outcome.bmxCall!)).toMatchObject({ image_url: "https://s3.example.com/v.jpg", provider: "twilio" });
  });

  it("records a call nobody is linked to as undeliverable", () => {
    const document = replay(context(call, { recipients: [] }));
    expect(document).toMatchObject({ status: "ringing", recipients: [], delivery: { state: "undeliverable", reason: "no_recipients" } });
  });

  it("treats a repeated create as a duplicate and changes nothing", () => {
    const stored = replay(context(call));
    expect(applyCallEvent(stored, context(call, { now: later(1) }))).toEqual({
      change: { kind: "none" },
      status: "ringing",
      recipients: ["uid-a"],
      duplicate: true,
    });
  });

  it("adds a recipient that a second integration reports, even on a duplicate", () => {
    const stored = replay(context(call));
    const outcome = applyCallEvent(stored, context(call, { recipients: ["uid-b"], via: "operator", now: later(1) }));
    expect(outcome).toMatchObject({ duplicate: true, recipients: ["uid-a", "uid-b"] });
    expect(outcome.change).toEqual({ kind: "update", fields: { recipients: ["uid-a", "uid-b"], updatedAt: later(1) } });
  });

  it("ends ringing on a terminal status and records when and why", () => {
    const document = replay(context(call), context(statusBody(call, "canceled"), { now: later(5) }));
    expect(document).toMatchObject({ status: "canceled", bmxStatus: "canceled", endedAt: later(5), endReason: "butterflymx", updatedAt: later(5) });
    expect(document.history.map((h) => [h.event, h.bmxStatus, h.status, h.applied])).toEqual([
      ["create", "initializing", "ringing", true],
      ["status_update", "canceled", "canceled", true],
    ]);
  });

  it("keeps the first terminal status when a later end arrives, and records the later one as not applied", () => {
    const document = replay(
      context(call),
      context(statusBody(call, "connecting_sip"), { now: later(3) }),
      context(statusBody(call, "opened_door"), { now: later(9) }),
    );
    expect(document).toMatchObject({ status: "answered", bmxStatus: "connecting_sip", endedAt: later(3) });
    expect(document.history[2]).toMatchObject({ bmxStatus: "opened_door", status: "door_opened", applied: false });
  });

  it("never rings a call whose end arrives before its create", () => {
    const document = replay(context(statusBody(call, "canceled")), context(call, { now: later(1) }));
    expect(document).toMatchObject({
      status: "canceled",
      bmxStatus: "canceled",
      endedAt: T0,
      delivery: { state: "not_rung", reason: "ended_before_create" },
    });
    expect(document.history.map((h) => [h.event, h.applied])).toEqual([
      ["status_update", true],
      ["create", false],
    ]);
  });

  it("rings a call first heard of through an initializing status, once", () => {
    const first = applyCallEvent(undefined, context(statusBody(call, "initializing")));
    expect(first).toMatchObject({ status: "ringing", change: { kind: "create", document: { delivery: { state: "pending" } } } });
    const document = replay(context(statusBody(call, "initializing")), context(call, { now: later(1) }));
    expect(document).toMatchObject({ status: "ringing", createdAt: T0 });
    expect(document.history).toHaveLength(2);
  });

  it("stores an unknown status raw and ends ringing as ended", () => {
    const document = replay(context(call), context(statusBody(call, "panel_exploded"), { now: later(2) }));
    expect(document).toMatchObject({ status: "ended", bmxStatus: "panel_exploded", endedAt: later(2) });
  });

  it("updates call details from a later event and keeps a known snapshot URL", () => {
    const renamed = { ...call, panel: { id: 28516, name: "Lobby" }, image_url: undefined };
    const document = replay(context(call), context(statusBody(renamed, "canceled"), { now: later(1) }));
    expect(document).toMatchObject({ panel: { id: "28516", name: "Lobby" }, visitorImageUrl: "https://s3.example.com/v.jpg" });
  });

  it("stops growing the history at the cap but still applies and dedupes", () => {
    let stored = replay(context(call));
    for (let i = 0; i < MAX_HISTORY + 5; i++) {
      const { change } = applyCallEvent(stored, context(statusBody(call, `unknown_${i}`), { now: later(i + 1) }));
      if (change.kind === "update") stored = { ...stored, ...change.fields };
    }
    expect(stored.history).toHaveLength(MAX_HISTORY);
    expect(stored).toMatchObject({ status: "ended", bmxStatus: "unknown_0", endedAt: later(1) });
  });
});

describe("repairs: the ring timeout, reconciliation", () => {
  const ringing = () => replay(context(call));

  it("ends a call left ringing as missed, naming who ended it, or with ButterflyMX's terminal status", () => {
    expect(timeoutEnding(ringing(), undefined, later(50))).toMatchObject({ status: "missed", endReason: "ring_timeout" });
    const reconciled = timeoutEnding(ringing(), "initializing", later(300), "reconciled");
    expect(reconciled).toMatchObject({ status: "missed", endReason: "reconciled" });
    expect(reconciled.history!.at(-1)).toMatchObject({ event: "reconciled", via: "reconcile", applied: true });
    expect(timeoutEnding(ringing(), "rejected", later(300), "reconciled")).toMatchObject({ status: "declined", bmxStatus: "rejected", endReason: "butterflymx" });
  });

  it("records a logged call as over, never rung, dated when the visitor called", () => {
    const logged = { guid: "AB-1", at: T0.toMillis(), bmxUserId: "7", recipients: ["b", "a", "a"], panel: { id: "1", name: "Lobby" }, unit: { id: "", label: "" } };
    const recorded = reconciledCall(logged, later(600), 30);
    expect(recorded).toMatchObject({ guid: "ab-1", status: "missed", bmxStatus: "initializing", recipients: ["a", "b"], endReason: "reconciled", delivery: { state: "not_rung" } });
    expect(recorded.createdAt).toEqual(T0);
    expect(recorded.expireAt.toMillis()).toBe(T0.toMillis() + 30 * 86_400_000);
    expect(reconciledCall({ ...logged, bmxStatus: "opened_door" }, later(600), 30).status).toBe("door_opened");
    expect(reconciledCall({ ...logged, visitorImageUrl: "https://img.example/v.jpg" }, later(600), 30).visitorImageUrl).toBe("https://img.example/v.jpg");
    expect(reconciledCall({ ...logged, visitorImageUrl: "javascript:alert(1)" }, later(600), 30)).not.toHaveProperty("visitorImageUrl");
  });

  it("takes ButterflyMX's late final status only onto a call we ended ourselves, once, without changing its status", () => {
    const timedOut = { ...ringing(), ...timeoutEnding(ringing(), undefined, later(50)) } as CallDocument;
    const fields = lateStatus(timedOut, "canceled", later(400))!;
    expect(fields).toMatchObject({ bmxStatus: "canceled" });
    expect(fields).not.toHaveProperty("status");
    expect(fields.history!.at(-1)).toMatchObject({ event: "status_update", bmxStatus: "canceled", applied: false });
    expect(lateStatus({ ...timedOut, ...fields } as CallDocument, "canceled", later(500))).toBeUndefined();
    expect(lateStatus(timedOut, "initializing", later(400))).toBeUndefined();
    const answered = replay(context(call), context(statusBody(call, "connecting_sip"), { now: later(5) }));
    expect(lateStatus(answered, "canceled", later(400))).toBeUndefined();
  });
});
