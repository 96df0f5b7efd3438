// Histories: `getCallHistory` and `getAccessHistory`, newest first, a page at a time (`nextCursor`).
import type { Backend } from "./backend";
import type { AccessHistoryEntry, CallHistoryEntry, Page } from "./contract";
import { h, problem, render, when } from "./dom";
import { statusWords } from "./call-text";

const PAGE = 5;

export function historyView(backend: Backend): { element: HTMLElement; refresh(): void } {
  const calls = pagedTable<CallHistoryEntry>({
    label: "Call history",
    columns: ["When", "Panel → unit", "Status", "Rang", "Source"],
    row: (e) => [when(e.at), `${e.panel?.name ?? "—"} → ${e.unit?.label ?? "—"}`, statusWords(e.status), e.rang ? `${e.rang.sent}/${e.rang.devices} device(s)` : "—", e.source],
    load: async (cursor) => (await backend.call.getCallHistory(pageQuery(cursor))).data,
    items: (page) => page.calls ?? [],
  });
  const access = pagedTable<AccessHistoryEntry>({
    label: "Door releases",
    columns: ["When", "Door", "Result", "How", "Source"],
    row: (e) => [when(e.at), e.door, e.result, e.method ?? (e.callGuid ? "from a call" : "—"), e.source],
    load: async (cursor) => (await backend.call.getAccessHistory(pageQuery(cursor))).data,
    items: (page) => page.entries ?? [],
  });
  const element = h("div", { class: "history" }, calls.element, access.element);
  return {
    element,
    refresh: () => {
      calls.reload();
      access.reload();
    },
  };
}

/** The SDK sends an undefined field as null, which the callables refuse: the first page has no cursor at all. */
function pageQuery(cursor: string | undefined): { limit: number; cursor?: string } {
  return cursor === undefined ? { limit: PAGE } : { limit: PAGE, cursor };
}

interface TableSpec<T> {
  label: string;
  columns: string[];
  row(entry: T): string[];
  load(cursor: string | undefined): Promise<Page<T>>;
  items(page: Page<T>): T[];
}

function pagedTable<T>(spec: TableSpec<T>) {
  const body = h("tbody");
  const note = h("p", { class: "note" });
  const more = h("button", { type: "button", hidden: true, onclick: () => void next() }, `More ${spec.label.toLowerCase()}`);
  const element = h(
    "section",
    { "aria-label": spec.label },
    h("h2", {}, spec.label),
    h("table", {}, h("thead", {}, h("tr", {}, ...spec.columns.map((c) => h("th", { scope: "col" }, c)))), body),
    note,
    more,
  );
  let cursor: string | undefined;
  let generation = 0;

  async function next(): Promise<void> {
    const mine = generation;
    more.disabled = true;
    try {
      const page = await spec.load(cursor);
      if (mine !== generation) return;
      body.append(...spec.items(page).map((entry) => h("tr", {}, ...spec.row(entry).map((cell) => h("td", {}, cell)))));
      cursor = page.nextCursor;
      more.hidden = !cursor;
      note.textContent = page.partial ? "ButterflyMX could not be read: only this backend's entries are listed." : body.children.length === 0 ? "Nothing yet." : "";
    } catch (error) {
      note.textContent = `${spec.label}: ${problem(error)}`;
    } finally {
      more.disabled = false;
    }
  }

  return {
    element,
    reload: () => {
      generation += 1;
      cursor = undefined;
      render(body);
      void next();
    },
  };
}
