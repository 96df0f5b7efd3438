// "My calls", live: the newest-first listener on `calls`, and for the selected call its timeline, this user's
// per-device device records (a second listener) and the two actions a resident has on a call.
import { collection, limit, onSnapshot, orderBy, query, type QuerySnapshot, where } from "firebase/firestore";
import type { Backend } from "./backend";
import { ackWords, badgeFor, endWords, outcomeWords, rangFor, ringingFor, ringWords, statusWords, stopWords } from "./call-text";
import { ACK_EVENTS, type AckEvent, type Call, type DeviceRecord } from "./contract";
import { announce, announceOutcome, failed, h, onSubmit, problem, render, when } from "./dom";

/** Calls listened to at first, and how many more each "Show older calls" adds. */
const LIVE_CALLS = 20;

export interface CallsView {
  element: HTMLElement;
  /** The call shown in detail, if any (the developer panel plays statuses for it). */
  selectedGuid(): string | undefined;
  stop(): void;
}

export function callsView(backend: Backend, uid: string): CallsView {
  const list = h("ul", { class: "call-list", "aria-label": "My calls, newest first" });
  const older = h("button", { type: "button", class: "older", hidden: true, onclick: () => listen(shown + LIVE_CALLS) }, "Show older calls");
  // Not a live region: it is drawn again on every update. Changes of status are announced instead.
  const detail = h("section", { class: "call-detail", "aria-label": "Selected call" });
  const element = h("div", { class: "calls" }, h("div", { class: "call-column" }, list, older), detail);
  let calls: Call[] = [];
  let selected: string | undefined;
  let records: DeviceRecord[] = [];
  let stopDeliveries: (() => void) | undefined;
  const doorResults = new Map<string, string>();
  // The acknowledgement form is drawn again on every update: its choices live here.
  const ackChoice = { deviceId: "", event: ACK_EVENTS[0] as AckEvent };

  let shown = 0;
  let stopCalls: () => void = () => undefined;
  /** Listens to the newest `count` calls: "my calls, newest first", recipients array-contains + createdAt desc (indexed). */
  function listen(count: number): void {
    stopCalls();
    shown = count;
    const myCalls = query(collection(backend.db, "calls"), where("recipients", "array-contains", uid), orderBy("createdAt", "desc"), limit(count));
    stopCalls = onSnapshot(myCalls, onCalls, failed("My calls"));
  }

  function onCalls(snapshot: QuerySnapshot): void {
    const before = new Map(calls.map((call) => [call.guid, call.status]));
    calls = snapshot.docs.map((doc) => doc.data() as Call);
    for (const call of calls) {
      const was = before.get(call.guid);
      if (was !== undefined && was !== call.status) announce(`${call.panel?.name ?? "A panel"} → ${call.unit?.label ?? "your unit"}: ${statusWords(call.status)}.`);
      else if (was === undefined && before.size > 0 && call.status === "ringing") announce(`${call.panel?.name ?? "A panel"} is calling ${call.unit?.label ?? "your unit"}.`);
    }
    // A call that starts ringing takes the screen, as a phone's incoming-call screen would.
    const arrived = calls.find((call) => !before.has(call.guid) && call.status === "ringing");
    // A full page may have older calls behind it.
    older.hidden = calls.length < shown;
    if (arrived && !snapshot.metadata.fromCache) select(arrived.guid);
    else if (!selected && calls[0]) select(calls[0].guid);
    else draw();
  }
  listen(LIVE_CALLS);

  function select(guid: string): void {
    if (guid !== selected) {
      selected = guid;
      records = [];
      stopDeliveries?.();
      // Rules let a user read only the device records of their own devices: the query must say so.
      const mine = query(collection(backend.db, "calls", guid, "deliveries"), where("uid", "==", uid));
      stopDeliveries = onSnapshot(
        mine,
        (snapshot) => {
          records = snapshot.docs.map((doc) => doc.data() as DeviceRecord);
          draw();
        },
        failed("Deliveries"),
      );
    }
    draw();
  }

  function draw(): void {
    if (calls.length === 0) {
      render(list, h("li", { class: "empty" }, "No calls yet."));
      render(detail);
      return;
    }
    render(
      list,
      ...calls.map((call) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "call-item", "data-guid": call.guid, "data-status": call.status, "aria-pressed": call.guid === selected ? "true" : "false", onclick: () => select(call.guid) },
            h("span", { class: "badge", "data-status": badgeFor(call, uid).status }, badgeFor(call, uid).words),
            ` ${call.panel?.name ?? "Panel"} → ${call.unit?.label ?? "unit"} · ${when(call.createdAt)}`,
          ),
        ),
      ),
    );
    const call = calls.find((c) => c.guid === selected);
    if (call) render(detail, ...callDetail(call));
  }

  function callDetail(call: Call): (HTMLElement | null)[] {
    const stopped = stopWords(call, uid);
    const badge = badgeFor(call, uid);
    const ending = endWords(call.endReason);
    return [
      h("h2", {}, `${call.panel?.name ?? "A panel"} calls ${call.unit?.label ?? "your unit"}`),
      h(
        "p",
        {},
        h("span", { class: "badge", "data-status": badge.status, "data-testid": "call-status" }, badge.words),
        call.status === "ringing"
          ? rangFor(call, uid)
            ? h("span", { class: "ring-timer", "data-ringing-since": call.createdAt.toMillis(), role: "timer" }, ` ${ringingFor(call.createdAt.toMillis(), Date.now())}`)
            : null
          : ` ${when(call.endedAt ?? call.updatedAt)}${ending ? ` · ${ending}` : ""}`,
      ),
      call.visitorImageUrl ? h("img", { class: "visitor", src: call.visitorImageUrl, alt: "The visitor, as the panel's camera saw them" }) : null,
      h("p", { "data-testid": "ring-words" }, ringWords(call, uid)),
      stopped ? h("p", { "data-testid": "stop-words" }, stopped) : null,
      h("h3", {}, "Your devices"),
      records.length === 0
        ? h("p", {}, "No device record for your devices.")
        : h(
            "table",
            { class: "device-records", "aria-label": "Per-device ring and stop" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Device"), h("th", { scope: "col" }, "Ring"), h("th", { scope: "col" }, "Stop"), h("th", { scope: "col" }, "Acknowledged"))),
            h(
              "tbody",
              {},
              ...records.map((d) =>
                h("tr", { "data-device": d.deviceId }, h("th", { scope: "row" }, `${d.deviceId} (${d.platform})`), h("td", {}, outcomeWords(d.ring)), h("td", {}, outcomeWords(d.stop)), h("td", {}, ackWords(d))),
              ),
            ),
          ),
      h("h3", {}, "Timeline"),
      h(
        "ol",
        { class: "timeline" },
        ...call.history.map((entry) =>
          h("li", {}, `${when(entry.at)} · ${entry.event} ${entry.bmxStatus} → ${statusWords(entry.status)}${entry.applied ? "" : " (recorded, not applied)"} · via ${entry.via}`),
        ),
      ),
      h("h3", {}, "Actions"),
      doorAction(call),
      ackAction(call),
    ];
  }

  function doorAction(call: Call): HTMLElement {
    const result = doorResults.get(call.guid) ?? (call.doorRelease ? `Door release: ${call.doorRelease.result} (${when(call.doorRelease.requestedAt)})` : "");
    const button = h("button", { type: "button", onclick: () => void openDoor(call.guid, button) }, "Open the door");
    return h("div", { class: "action" }, button, h("output", { "data-testid": "door-result" }, result));
  }

  async function openDoor(guid: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    // One requestId per tap: a retry of the same tap (network) must reuse it, a new tap gets a new one.
    const requestId = crypto.randomUUID();
    try {
      const { data } = await backend.call.releaseDoor({ requestId, callGuid: guid });
      doorResults.set(guid, `Door release: ${data.result}${data.message ? ` (${data.message})` : ""}${data.result === "unknown" ? " — the door may have opened" : ""}`);
    } catch (error) {
      doorResults.set(guid, `Door release refused: ${problem(error)}`);
    } finally {
      button.disabled = false;
    }
    draw();
  }

  function ackAction(call: Call): HTMLElement | null {
    if (records.length === 0) return null;
    const device = h(
      "select",
      { id: "ack-device", onchange: () => (ackChoice.deviceId = device.value) },
      ...records.map((d) => h("option", { value: d.deviceId, selected: d.deviceId === ackChoice.deviceId }, d.deviceId)),
    );
    const event = h(
      "select",
      { id: "ack-event", onchange: () => (ackChoice.event = event.value as AckEvent) },
      ...ACK_EVENTS.map((e) => h("option", { value: e, selected: e === ackChoice.event }, e)),
    );
    const send = () =>
      announceOutcome("Acknowledge", async () => {
        const input = { guid: call.guid, deviceId: device.value, event: event.value as AckEvent };
        const { data } = await backend.call.acknowledgeDelivery(input);
        return data.recorded ? `Acknowledged ${input.event} for ${input.deviceId}.` : `${input.deviceId} had acknowledged ${input.event} already (${data.at}).`;
      });
    return h(
      "form",
      { class: "action", onsubmit: onSubmit(send) },
      h("label", { for: "ack-device" }, "Acknowledge as device "),
      device,
      h("label", { for: "ack-event" }, " event "),
      event,
      h("button", { type: "submit" }, "Acknowledge"),
    );
  }

  // Ring timers tick without touching the documents.
  const ticker = setInterval(() => {
    for (const timer of detail.querySelectorAll<HTMLElement>("[data-ringing-since]")) {
      timer.textContent = ` ${ringingFor(Number(timer.dataset.ringingSince), Date.now())}`;
    }
  }, 1000);

  return {
    element,
    selectedGuid: () => selected,
    stop: () => {
      stopCalls();
      stopDeliveries?.();
      clearInterval(ticker);
    },
  };
}
