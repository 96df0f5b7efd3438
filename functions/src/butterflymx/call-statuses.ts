/**
 * ButterflyMX's raw call statuses (butterflymx-api.md, "Status values"). Kept free of zod: the ring and stop
 * triggers load it, and they validate nothing from outside.
 */

/** ButterflyMX's status for a new, ringing call; also what the create event implies. */
export const BMX_RINGING_STATUS = "initializing";
