// The second cluster for HTTP callouts. Its answer depends on the callout's path so one server serves
// every scenario: /ok answers 200 "callout-ok" with x-callout: yes, /slow answers after 3 s (longer
// than any scenario timeout), /reset drops the connection, anything else is 404.
import { createServer } from "node:http";

/** The behaviour behind each path, shared with the emulator side. */
export function calloutAnswer(path: string): { status: number; headers: [string, string][]; body: string } | "reset" | "slow" {
  if (path === "/reset") return "reset";
  if (path === "/slow") return "slow";
  if (path === "/ok") return { status: 200, headers: [["x-callout", "yes"], ["content-type", "text/plain"]], body: "callout-ok" };
  return { status: 404, headers: [["content-type", "text/plain"]], body: "no such callout" };
}

/** Starts the callout server on a free loopback port. */
export async function startCalloutServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const a = calloutAnswer(req.url ?? "");
      if (a === "reset") req.socket.destroy();
      else if (a === "slow") setTimeout(() => res.writableEnded || res.end("late"), 3000).unref();
      else res.writeHead(a.status, a.headers.flat()).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
