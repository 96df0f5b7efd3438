// A few lines of DOM building instead of a UI framework: the console is small and its readers are partner
// engineers who should see the SDK calls, not a framework's.
type Child = Node | string | number | false | null | undefined;
type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

/** `h("button", {type: "button", onclick}, "Open door")`: an element with attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...nodes(children));
  return element;
}

/** Replaces everything inside `parent`. */
export function render(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...nodes(children));
}

function nodes(children: Child[]): (Node | string)[] {
  return children.filter((child) => child !== null && child !== undefined && child !== false).map((child) => (typeof child === "number" ? String(child) : (child as Node | string)));
}

/** A local date-time, short. */
export function when(value: { toDate(): Date } | string | undefined): string {
  if (value === undefined) return "—";
  const date = typeof value === "string" ? new Date(value) : value.toDate();
  return date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

/** The message of a callable's error (`HttpsError`: code and message) or of anything thrown. */
export function problem(error: unknown): string {
  if (error && typeof error === "object" && "message" in error) {
    const code = "code" in error && typeof error.code === "string" ? `${error.code.replace(/^functions\//, "")}: ` : "";
    return `${code}${String(error.message)}`;
  }
  return String(error);
}

// The status line speaks for one signed-in session: an answer that arrives after sign-out (a callable still on its
// way) is not shown on the sign-in screen or to the next user.
let session = 0;

/** Empties the status line and ends its session: answers to what was asked before are dropped. */
export function clearStatus(): void {
  session += 1;
  const status = document.getElementById("status");
  if (!status) return;
  status.textContent = "";
  delete status.dataset.kind;
}

/** Announces a message to screen readers and shows it in the page's status line. */
export function announce(message: string, kind: "info" | "error" = "info"): void {
  const status = document.getElementById("status");
  if (!status) return;
  status.textContent = message;
  status.dataset.kind = kind;
}

/** `announce`, for this session only: once the status line is cleared, it says nothing. */
function announcer(): typeof announce {
  const asked = session;
  return (message, kind) => {
    if (asked === session) announce(message, kind);
  };
}

/** An error handler that announces `what` failed and why (listeners, callables), within the session it was made in. */
export function failed(what: string): (error: unknown) => void {
  const say = announcer();
  return (error) => say(`${what}: ${problem(error)}`, "error");
}

/** Runs an action and announces the message it resolves to, or that `what` failed and why, within this session. */
export async function announceOutcome(what: string, run: () => Promise<string>): Promise<void> {
  const say = announcer();
  const fail = failed(what);
  try {
    say(await run());
  } catch (error) {
    fail(error);
  }
}

/** A form's submit listener: no navigation, `run` instead. */
export function onSubmit(run: () => Promise<void>): EventListener {
  return (event) => {
    event.preventDefault();
    void run();
  };
}
