// The free-port probe shared by the stack starter (start.ts) and the Redis starter (redis.ts); its own
// module so neither has to import the other.
import { createServer } from "node:net";

/** freePort returns a port that was free a moment ago on 127.0.0.1; rejects when none can be bound. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}
