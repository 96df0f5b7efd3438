import { z } from "zod";

/** `linkButterflyMxAccount` input: what the app got back from ButterflyMX's authorize page (PKCE, RFC 7636). */
export const linkAccountSchema = z
  .object(
    {
      code: z.string().regex(/^[\x21-\x7e]{1,512}$/, "must be the authorization code from the redirect (1 to 512 printable characters)"),
      codeVerifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/, "must be the PKCE code verifier: 43 to 128 characters of A-Z a-z 0-9 . _ ~ -"),
      redirectUri: z.string().max(2048, "must be at most 2048 characters").refine(isAbsoluteUri, "must be the absolute redirect URI used on the authorize page"),
      /** Move a ButterflyMX account already linked to another user of this app to the caller. */
      takeOver: z.boolean("must be true or false").optional(),
    },
    "must be an object",
  )
  .strict();
export type LinkAccountInput = z.infer<typeof linkAccountSchema>;

export const noInputSchema = z.object({}, "must be an empty object or omitted").strict();

function isAbsoluteUri(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}
