import { z } from "zod";
import { APNS_ENVIRONMENTS, PLATFORMS } from "./device-registry";

/** An install's own id (e.g. a UUID the app keeps); a Firestore document id, so no `/` and no reserved names. */
export const deviceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, "must be 1 to 128 letters, digits, . _ : or -")
  .refine((id) => id !== "." && id !== ".." && !/^__.*__$/.test(id), "is a reserved name");

const fcmToken = z.string().regex(/^[\x21-\x7e]{16,4096}$/, "must be an FCM registration token (16 to 4096 printable characters)");
const voipToken = z
  .string()
  .regex(/^[0-9a-fA-F]{64,200}$/, "must be a PushKit token in hex (64 to 200 characters)")
  .transform((token) => token.toLowerCase());

/** `registerDevice` input. */
export const registerDeviceSchema = z
  .object({
    deviceId: deviceIdSchema,
    platform: z.enum(PLATFORMS, "must be android or ios"),
    fcmToken: fcmToken.optional(),
    voipToken: voipToken.optional(),
    apnsEnvironment: z.enum(APNS_ENVIRONMENTS, "must be production or sandbox").optional(),
    bundleId: z.string().regex(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, "must be a bundle ID such as com.example.app").max(155).optional(),
    appVersion: z.string().regex(/^[\x20-\x7e]{1,64}$/, "must be 1 to 64 printable characters").optional(),
    locale: z.string().regex(/^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8}){0,3}$/, "must be a locale such as en-US").optional(),
  }, "must be an object")
  .strict()
  .superRefine((input, ctx) => {
    if (!input.fcmToken && !input.voipToken) {
      ctx.addIssue({ code: "custom", path: ["fcmToken"], message: "or voipToken is required: a device needs at least one push token" });
    }
    if (input.platform === "android" && input.voipToken) {
      ctx.addIssue({ code: "custom", path: ["voipToken"], message: "is only for iOS devices" });
    }
    if (input.platform === "android" && (input.apnsEnvironment || input.bundleId)) {
      ctx.addIssue({ code: "custom", path: [input.bundleId ? "bundleId" : "apnsEnvironment"], message: "is only for iOS devices" });
    }
  });
export type RegisterDeviceInput = z.infer<typeof registerDeviceSchema>;

export const unregisterDeviceSchema = z.object({ deviceId: deviceIdSchema }, "must be an object").strict();
