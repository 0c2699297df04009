// A trivial upstream on 127.0.0.1:0 that answers every request with a small manifest-like JSON body
// and counts what reached it, so filter-cost comparisons measure the proxy and not an application.
import { createServer, type Server } from "node:http";

/** A running trivial upstream. */
export interface TrivialUpstream {
  port: number;
  /** Requests that reached the upstream so far. */
  received(): number;
  close(): Promise<void>;
}

const BODY = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", layers: [] });

/** Starts the upstream; rejects when it cannot listen. Always close() it, also on failure paths. */
export async function startTrivialUpstream(): Promise<TrivialUpstream> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    req.resume();
    res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("upstream: no TCP address");
  return {
    port: address.port,
    received: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
