import { BUTTERFLYMX_CLIENT_ID, BUTTERFLYMX_CLIENT_SECRET, BUTTERFLYMX_ENVIRONMENT } from "../config";
import { ButterflyMxClient } from "./butterflymx-client";
import { BmxEnvironment, runtimeBmxEndpoints } from "./butterflymx-hosts";

/** The ButterflyMX client of the deployed configuration (params are read at run time, never at load). */
export function runtimeButterflyMx(): { bmx: ButterflyMxClient; environment: BmxEnvironment } {
  const environment = BUTTERFLYMX_ENVIRONMENT.value() === "sandbox" ? "sandbox" : "production";
  const bmx = new ButterflyMxClient({
    endpoints: runtimeBmxEndpoints(environment),
    clientId: BUTTERFLYMX_CLIENT_ID.value(),
    clientSecret: BUTTERFLYMX_CLIENT_SECRET.value(),
  });
  return { bmx, environment };
}
