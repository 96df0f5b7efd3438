import { z } from "zod";
import { CONTACT_PREFERENCES } from "../devices/user-profile";

/** `updatePreferences` input: one or both settings, nothing else. */
export const updatePreferencesSchema = z
  .object(
    {
      doNotDisturb: z.boolean("must be true or false").optional(),
      contactPreference: z.enum(CONTACT_PREFERENCES, "must be mobile_app or phone_call").optional(),
    },
    "must be an object",
  )
  .strict()
  .refine((input) => input.doNotDisturb !== undefined || input.contactPreference !== undefined, {
    message: "must name doNotDisturb or contactPreference (or both)",
  });
export type UpdatePreferencesInput = z.infer<typeof updatePreferencesSchema>;
