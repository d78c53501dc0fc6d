import type { Socket } from "node:net";
import type { Pool } from "pg";

/** How long a pool's end is given to close its connections before their sockets are destroyed. */
export const CLOSE_GRACE_MS = 5_000;

/**
 * Makes a pool safe to keep across a restart of its server, and records its connections' sockets
 * in `sockets` until they close (for {@link endPools}). A connection that breaks emits "error"
 * (besides failing its query, if one runs): an idle one on the pool, one lent out on the client
 * itself, where pg-pool leaves no listener. Unheard, either would crash the process (a restart or
 * failover ends every session, idle ones too); the failure already reaches the caller through its
 * query, and the pool drops the broken connection.
 */
export function quietPool(pool: Pool, sockets: Set<Socket>): Pool {
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
    const socket = (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
    if (socket === undefined) return;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return pool;
}

/**
 * Waits for `ending` (pools' `end()`), for at most {@link CLOSE_GRACE_MS}: a connection ends once
 * the server closes it, which one that no longer answers never does (frozen, or a host gone
 * without a reset). Past the grace, the sockets still open are destroyed, so a close returns.
 */
export async function endWithin(ending: Promise<unknown>, sockets: Set<Socket>): Promise<void> {
  let grace: NodeJS.Timeout | undefined;
  const late = await Promise.race([
    ending.then(
      () => false,
      () => false,
    ),
    new Promise<boolean>((resolve) => (grace = setTimeout(() => resolve(true), CLOSE_GRACE_MS))),
  ]);
  clearTimeout(grace);
  if (late) for (const socket of sockets) socket.destroy();
  sockets.clear();
}
