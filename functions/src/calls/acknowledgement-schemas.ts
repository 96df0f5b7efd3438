import { z } from "zod";
import { deviceIdSchema } from "../devices/device-schemas";

export const ACK_EVENTS = ["received", "displayed", "answered", "declined"] as const;
export type AckEvent = (typeof ACK_EVENTS)[number];

/** `acknowledgeDelivery`: what the app did with a call's push on one of its own devices. */
export const acknowledgeDeliverySchema = z
  .object(
    {
      guid: z.guid("must be the call's guid").transform((guid) => guid.toLowerCase()),
      deviceId: deviceIdSchema,
      event: z.enum(ACK_EVENTS, "must be received, displayed, answered or declined"),
    },
    "must be an object",
  )
  .strict();
export type AcknowledgeDeliveryInput = z.infer<typeof acknowledgeDeliverySchema>;
