/**
 * Runs the storage service: `tsx image-hub/storage/server.ts --data-dir DIR [--port N]`.
 * Listens on 127.0.0.1 (port 0 by default) and prints one JSON line `{"listening":<port>}` on
 * stdout so a parent process can find it. SIGINT/SIGTERM close the server and the database.
 * @module
 */
import { parseArgs } from "node:util";
import { createStorage } from "./app.ts";

const { values } = parseArgs({ options: { "data-dir": { type: "string" }, port: { type: "string", default: "0" } } });
if (!values["data-dir"]) {
  console.error("storage: --data-dir is required");
  process.exit(2);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error("storage: --port must be an integer 0-65535");
  process.exit(2);
}
const storage = createStorage({ dataDir: values["data-dir"] });
const server = storage.app.listen(port, "127.0.0.1", () => {
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  process.stdout.write(`${JSON.stringify({ listening: actual, recovered: storage.recovered })}\n`);
});
// Blob uploads can take long; the per-request timeout would cut off large pushes.
server.requestTimeout = 0;
function stop() {
  server.close(() => {
    storage.close();
    process.exit(0);
  });
  server.closeAllConnections();
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
