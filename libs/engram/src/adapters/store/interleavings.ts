import type { ChromaProxy, Hold } from "../../tests/chroma_proxy.js";

/**
 * Test tool: runs calls of several clients, each talking to Chroma through its own proxy, with
 * their Chroma requests interleaved one at a time in an order a seeded choice makes. Every request
 * of every client is held on arrival; while some clients wait on a held request, one of them
 * (picked by `pick`) is let go, so a run explores one interleaving of the clients' requests and
 * replays it from its seed. No timing: a client that has no request pending is waited for.
 */
export async function interleave(
  proxies: readonly ChromaProxy[],
  calls: ReadonlyArray<() => Promise<unknown>>,
  pick: () => number,
): Promise<PromiseSettledResult<unknown>[]> {
  const holds: Hold[] = proxies.map((proxy) => proxy.hold(() => true));
  const done = calls.map(() => false);
  const running = calls.map((call, i) =>
    call().finally(() => {
      done[i] = true;
    }),
  );
  const settled = Promise.allSettled(running);
  try {
    for (;;) {
      // Wait until every client still running has a request held (or has finished).
      await Promise.race([
        Promise.all(holds.map((hold, i) => Promise.race([hold.arrived, running[i]!.then(noop, noop)]))),
        settled,
      ]);
      const waiting = holds.flatMap((hold, i) => (!done[i] && hold.count > 0 ? [i] : []));
      if (waiting.length === 0) break;
      const chosen = waiting[Math.floor(pick() * waiting.length)]!;
      // The next request of the chosen client is held again: re-arm before letting this one go.
      const next = proxies[chosen]!.hold(() => true);
      const current = holds[chosen]!;
      holds[chosen] = next;
      current.release();
    }
  } finally {
    holds.forEach((hold) => hold.release());
  }
  return settled;
}

function noop(): void {}
