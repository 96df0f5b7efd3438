// The developer panel of emulator builds (never in a deployed build: only `emulator-main.ts` imports it). It
// plays ButterflyMX and shows the push outbox through the local developer server `npm start` runs
// (`scripts/lib/dev-panel-server.mjs`), because the webhook has CORS off and `pushOutbox` is server-only: the
// deployed webhook and rules stay as they are.
import type { User } from "firebase/auth";
import type { CallsView } from "./calls-view";
import { h, onSubmit, problem, render, when } from "./dom";

/** ButterflyMX events the panel plays (the server maps each to a webhook body). */
const PLAYS = [
  ["call", "Visitor calls"],
  ["answer", "Answer"],
  ["cancel", "Visitor hangs up"],
  ["decline", "Decline"],
  ["missed", "Missed"],
  ["duplicate", "Repeat the create"],
] as const;

/** The developer server answers within its own step limits; past this the panel says so instead of waiting. */
const PLAY_TIMEOUT_MS = 30_000;

interface OutboxPush {
  id: string;
  provider: string;
  guid: string | null;
  type: string | null;
  device: string;
  pushType?: string;
  createdAt: string;
}

export function developerPanel(origin: string) {
  return (user: User, calls: CallsView) => {
    const answer = h("output", { "data-testid": "play-result" });
    const unknown = h("input", { id: "unknown-status", value: "some_new_status", size: 18, pattern: "[a-z0-9_]{1,64}" });
    const image = h("input", { id: "visitor-image", type: "url", placeholder: "https://…", size: 28 });
    const outbox = h("ol", { class: "outbox", "aria-label": "Push outbox, newest first", reversed: true });
    let lastGuid: string | undefined;

    async function play(command: string, status?: string): Promise<void> {
      const guid = command === "call" ? undefined : (calls.selectedGuid() ?? lastGuid);
      try {
        const response = await fetch(`${origin}/play`, {
          method: "POST",
          signal: AbortSignal.timeout(PLAY_TIMEOUT_MS),
          headers: { "content-type": "application/json", authorization: `Bearer ${await user.getIdToken()}` },
          // The image belongs to a new call (the create); statuses carry none.
          body: JSON.stringify({ command, guid, status, visitorImageUrl: command === "call" || command === "duplicate" ? image.value.trim() || undefined : undefined }),
        });
        const body = (await response.json()) as { guid?: string; webhook?: { status: number; body: unknown }; error?: string };
        if (body.guid) lastGuid = body.guid;
        answer.textContent = body.error ?? `${command} → webhook HTTP ${body.webhook?.status}: ${JSON.stringify(body.webhook?.body)}`;
      } catch (error) {
        answer.textContent = `The developer server at ${origin} did not answer (${problem(error)}). Is \`npm start\` running?`;
      }
    }

    const pushes: OutboxPush[] = [];
    const show = (push: OutboxPush): void => {
      pushes.unshift(push);
      pushes.splice(30);
      render(
        outbox,
        ...pushes.map((p) =>
          h("li", { "data-guid": p.guid ?? "" }, `${when(p.createdAt)} · ${p.provider} ${p.type ?? "?"} → ${p.device}${p.pushType ? ` (apns-push-type ${p.pushType})` : ""} · call ${p.guid?.slice(0, 8) ?? "?"}`),
        ),
      );
    };
    const watching = new AbortController();
    const ready = (): void => outbox.setAttribute("data-ready", "true");
    const outboxProblem = h("p", { role: "alert", class: "error" });
    void watchOutbox(origin, user, watching.signal, show, ready).catch((error: unknown) => {
      if (!watching.signal.aborted) outboxProblem.textContent = `The push outbox cannot be watched: ${problem(error)}. Is \`npm start\` running?`;
    });

    const element = h(
      "details",
      { class: "developer", open: true },
      h("summary", {}, "Developer panel (emulators only): play ButterflyMX, watch the push outbox"),
      h("p", {}, "Plays ButterflyMX for your linked ButterflyMX user through the building-wide webhook URL. Statuses go to the selected call."),
      h("p", {}, h("label", { for: "visitor-image" }, "Visitor image URL for the next call (https, optional) "), image),
      h("div", { class: "plays" }, ...PLAYS.map(([command, label]) => h("button", { type: "button", "data-play": command, onclick: () => void play(command) }, label))),
      h(
        "form",
        { class: "action", onsubmit: onSubmit(() => play("status", unknown.value)) },
        h("label", { for: "unknown-status" }, "Any ButterflyMX status "),
        unknown,
        h("button", { type: "submit", "data-play": "status" }, "Send status"),
      ),
      answer,
      h("h3", {}, "Push outbox: what FCM and APNs would receive for your devices"),
      outboxProblem,
      outbox,
    );
    return { element, stop: () => watching.abort() };
  };
}

/** Reads the server's event stream (one JSON message per `data:` line) with the ID token in a header, not the URL. */
async function watchOutbox(origin: string, user: User, signal: AbortSignal, show: (push: OutboxPush) => void, ready: () => void): Promise<void> {
  const response = await fetch(`${origin}/outbox`, { headers: { authorization: `Bearer ${await user.getIdToken()}` }, signal });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("data: ")) continue;
      const message = JSON.parse(line.slice(6)) as { kind: "ready" } | ({ kind: "push" } & OutboxPush);
      if (message.kind === "ready") ready();
      else show(message);
    }
  }
}
