// The emulators close a kept-alive connection after 5 s of idleness. A request sent on it as it closes fails with
// "other side closed" (seen at the rules suite's first request, the emulator hub's discovery, right after loading its
// modules). HTTP lets a client send an idempotent request again when its connection closed under it; fetch does not,
// so in the emulator suites a GET, HEAD, PUT, DELETE or OPTIONS that meets a closed connection is sent once more. A
// POST never is: it may have been acted on.
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
const fetchOnce = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
  try {
    return await fetchOnce(input, init);
  } catch (error) {
    const closed = error?.cause?.code === "UND_ERR_SOCKET" || error?.cause?.code === "ECONNRESET";
    if (!closed || !IDEMPOTENT.has(method)) throw error;
    return fetchOnce(input, init);
  }
};
