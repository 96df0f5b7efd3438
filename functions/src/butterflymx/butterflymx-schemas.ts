import { z } from "zod";

/** Response shapes of the ButterflyMX endpoints we call. Unknown fields are kept (loose): ButterflyMX adds fields. */

const id = z.union([z.string().min(1), z.number().int()]).transform(String);

/** `POST /oauth/token` (code exchange and refresh). */
export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive().optional(),
  scope: z.string().optional(),
  created_at: z.number().optional(),
});

/** `GET {accounts}/api/mobile/regions`. */
export const regionsResponseSchema = z.looseObject({
  regions: z.array(z.string()).min(1),
});

const resourceRef = z.looseObject({ id, type: z.string() });
const relationship = z.looseObject({ data: z.union([resourceRef, z.array(resourceRef), z.null()]).optional() }).optional();
const resource = z.looseObject({
  id,
  type: z.string(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  relationships: z.record(z.string(), relationship).optional(),
});

/** `GET /v3/me?include=tenants,tenants.building,tenants.unit,tenants.panels` (JSON:API document). */
export const meResponseSchema = z.looseObject({
  data: resource,
  included: z.array(resource).optional(),
});

/** One webhook integration; ButterflyMX answers `config` where the request said `configuration`. */
export const integrationSchema = z.looseObject({
  id,
  attributes: z
    .looseObject({
      config: z.looseObject({ url: z.string().optional() }).optional(),
      configuration: z.looseObject({ url: z.string().optional() }).optional(),
      bindings: z.array(z.looseObject({ actions: z.array(z.unknown()).optional() })).nullish().catch(undefined),
    })
    .optional(),
});

/** v3 lists carry `links.next`; v4 lists `page_info.next_page`. */
export const integrationListSchema = z.looseObject({
  data: z.array(integrationSchema),
  links: z.looseObject({ next: z.string().nullish() }).optional(),
  page_info: z.looseObject({ next_page: z.number().nullish() }).optional(),
});

export const integrationCreatedSchema = z.looseObject({ data: integrationSchema });

/** `{"errors":[{field, code, message | messages}]}` (and JSON:API's title/detail), or OAuth's `{error, error_description}`. */
export const errorResponseSchema = z.looseObject({
  errors: z
    .array(
      z.looseObject({ field: z.string().optional(), code: z.unknown().optional(), message: z.string().optional(), messages: z.unknown().optional(), detail: z.string().optional(), title: z.string().optional() }),
    )
    .optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
});

/** `POST /v4/door_release_requests` → 201 `{data:{id, guid, access_point_id, device_id, tenant_id, release_method, …}}`. */
export const doorReleaseCreatedSchema = z.looseObject({ data: z.looseObject({ id }) });

/** `POST /v3/me/open_door`: no body has been seen; a JSON:API resource when there is one. */
export const openDoorResponseSchema = z.looseObject({ data: z.looseObject({ id: id.optional() }).optional() });

const timestamp = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be a date");

/** `GET /v3/me/calls` (JSON:API): the user's calls, newest first, with their guid. */
export const callLogSchema = z.looseObject({
  data: z.array(
    z.looseObject({
      id,
      attributes: z.looseObject({
        guid: z.string().optional(),
        logged_at: timestamp.nullish(),
        created_at: timestamp.nullish(),
        status: z.string().nullish(),
        panel_name: z.string().nullish(),
        panel_id: id.nullish(),
        thumb_url: z.string().nullish(),
        medium_url: z.string().nullish(),
      }),
      relationships: z.record(z.string(), relationship).optional(),
    }),
  ),
  links: z.looseObject({ next: z.string().nullish() }).optional(),
});

/** `GET /v4/buildings/{id}/access_logs` (with a resident's token: that resident's entries). */
export const accessLogSchema = z.looseObject({
  data: z.array(
    z.looseObject({
      id,
      logged_at: timestamp,
      access_point: id.nullish(),
      release_status: z.string().nullish(),
      release_type: z.string().nullish(),
      entry_method: z.unknown().optional(),
      unit: id.nullish(),
      tenant_id: id.nullish(),
      image_url: z.string().nullish(),
    }),
  ),
  page_info: z.looseObject({ next_page: z.number().nullish() }).optional(),
});

/** `GET /v4/access_points` → `{data:[{id, name, building_id, device_ids, …}], page_info}`. */
export const accessPointListSchema = z.looseObject({
  data: z.array(z.looseObject({ id, name: z.string().nullish(), building_id: id })),
  page_info: z.looseObject({ next_page: z.number().nullish() }).optional(),
});

/** `PUT /v4/tenants/{id}`: the tenant as it is now. */
export const tenantUpdatedSchema = z.looseObject({ data: z.looseObject({ id }) });

/** `GET /v3/me/calls/{guid}/status` (JSON:API `call_statuses`): the call's status as ButterflyMX has it now. */
export const callStatusSchema = z.looseObject({
  data: z.looseObject({ attributes: z.looseObject({ status: z.string().min(1) }) }),
});
