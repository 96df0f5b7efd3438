import { randomUUID } from "node:crypto";

/** The partner guide's create body, with a fresh guid. */
export function createBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    guid: randomUUID(),
    user: { id: 3220259, first_name: "Dana", last_name: "Resident", sip_username: "3077790", email: "dana@example.com" },
    panel: { id: 28516, name: "Front Door", sip_username: "panel_28516" },
    unit: { id: 1859622, label: "4B" },
    provider: "twilio",
    ...overrides,
  };
}

export function statusBody(call: Record<string, unknown>, status: string): Record<string, unknown> {
  return { call, status };
}

export const BMX_STATUSES = [
  "initializing",
  "connecting_sip",
  "canceled",
  "timeout_online_signal",
  "rejected",
  "voip_rollover",
  "opened_door",
] as const;
