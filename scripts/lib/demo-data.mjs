// The demo resident `npm start` seeds and `npm run simulate` calls. Demo project only: the secret is public.
export const DEMO = {
  uid: "demo-resident",
  email: "resident@example.com",
  password: "demo-password",
  bmxUserId: 3220259,
  tenantId: "demo-tenant-4b",
  buildingId: "demo-building",
  buildingName: "Demo Building",
  accessPointId: "842395203",
  accessPointName: "Lobby door",
  // The demo resident's ButterflyMX sign-in, as linking would have stored it; only the local ButterflyMX knows it.
  bmxTokens: { access: "demo-butterflymx-access-token", refresh: "demo-butterflymx-refresh-token" },
  // Stands in for the per-registration secret linking creates; only its SHA-256 is stored.
  webhookSecret: "demo-webhook-secret-0123456789abcdefghijk",
  call: {
    user: { id: 3220259, first_name: "Dana", last_name: "Resident", sip_username: "3077790", email: "resident@example.com" },
    panel: { id: 28516, name: "Front Door", sip_username: "panel_28516" },
    unit: { id: 1859622, label: "4B" },
    provider: "twilio",
  },
};
