/** ButterflyMX environments and regions (butterflymx-api.md, "Hosts and regions"). */
export type BmxEnvironment = "production" | "sandbox";
export type BmxRegion = "na" | "eu";

export const BMX_REGIONS: readonly BmxRegion[] = ["na", "eu"];

/** Where one environment's OAuth server and regional API hosts are. */
export interface BmxEndpoints {
  accounts: string;
  api: Record<BmxRegion, string>;
}

const HOSTS: Record<BmxEnvironment, BmxEndpoints> = {
  production: {
    accounts: "https://accounts.butterflymx.com",
    api: { na: "https://api.butterflymx.com", eu: "https://eu.api.butterflymx.com" },
  },
  // The sandbox has one region; EU users do not exist there, so both map to it.
  sandbox: {
    accounts: "https://accounts.na.sandbox.butterflymx.com",
    api: { na: "https://api.na.sandbox.butterflymx.com", eu: "https://api.na.sandbox.butterflymx.com" },
  },
};

export function bmxEndpoints(environment: BmxEnvironment): BmxEndpoints {
  return HOSTS[environment];
}

/**
 * Local ButterflyMX servers for the emulator and tests: `BUTTERFLYMX_ACCOUNTS_ORIGIN`, `BUTTERFLYMX_API_ORIGIN_NA`
 * and `BUTTERFLYMX_API_ORIGIN_EU`. Honoured only inside the Functions emulator, so a deployed function can only
 * ever reach ButterflyMX itself.
 */
export function runtimeBmxEndpoints(environment: BmxEnvironment, env: NodeJS.ProcessEnv = process.env): BmxEndpoints {
  const real = bmxEndpoints(environment);
  if (env.FUNCTIONS_EMULATOR !== "true" || !env.BUTTERFLYMX_ACCOUNTS_ORIGIN) return real;
  return {
    accounts: env.BUTTERFLYMX_ACCOUNTS_ORIGIN,
    api: {
      na: env.BUTTERFLYMX_API_ORIGIN_NA ?? env.BUTTERFLYMX_ACCOUNTS_ORIGIN,
      eu: env.BUTTERFLYMX_API_ORIGIN_EU ?? env.BUTTERFLYMX_API_ORIGIN_NA ?? env.BUTTERFLYMX_ACCOUNTS_ORIGIN,
    },
  };
}
