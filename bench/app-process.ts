// The measured application for the speed-vs-power scenarios: Image Hub's storage and access services
// in one child process, so /proc/<pid> of this process is "the app's" CPU time and memory.
// Started by bench/lib/app.ts with one JSON argument; prints one JSON line when both listen. A
// control port answers GET with how many requests the access service answered, and how many 429s.
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import Database from "better-sqlite3";
import { createAccess } from "../image-hub/access/app.ts";
import { loadCatalog } from "../image-hub/catalog.ts";
import { createStorage } from "../image-hub/storage/app.ts";

interface AppProcessConfig {
  dataDir: string;
  mode: "filter" | "app";
  keys: { kid: string; k: string }[];
  sidecarSecret: string;
  realm: string;
}

function listen(app: { listen: (port: number, host: string, cb: () => void) => Server }): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, "127.0.0.1", () => resolve(server));
  });
}

const config = JSON.parse(process.argv[2] ?? "{}") as AppProcessConfig;
const storage = createStorage({ dataDir: `${config.dataDir}/storage` });
const storageServer = await listen(storage.app);
const storagePort = (storageServer.address() as AddressInfo).port;
const access = createAccess({
  dataDir: `${config.dataDir}/access`,
  storageUrl: `http://127.0.0.1:${storagePort}`,
  catalog: loadCatalog(),
  keys: config.keys,
  mode: config.mode,
  realm: config.realm,
  sidecarSecret: config.sidecarSecret,
});
const accessServer = await listen(access.app);
// What the app itself answered, so the benchmark can tell which rejections reached the app at all.
const counts = { requests: 0, rejected429: 0 };
accessServer.on("request", (_req, res) =>
  res.once("finish", () => {
    counts.requests++;
    if (res.statusCode === 429) counts.rejected429++;
  }),
);
// The bench's users exist as accounts, since the enforced plan is the account's current plan (CONTRACT.md
// "Live plans"). They are written straight into access.db (a second connection; WAL allows it) with a
// password hash no password matches: hashing thousands of passwords would dominate the run.
const accounts = new Database(`${config.dataDir}/access/access.db`);
const addAccount = accounts.prepare("INSERT OR REPLACE INTO users (username, password_hash, plan, created_at) VALUES (?, '!bench-only-no-login', ?, ?)");
const addAccounts = accounts.transaction((list: { name: string; plan: string }[]) => {
  for (const u of list) addAccount.run(u.name, u.plan, Date.now());
});
const control = createServer((req, res) => {
  if (req.method !== "POST") return void res.setHeader("content-type", "application/json").end(JSON.stringify(counts));
  let body = "";
  req.on("data", (c: Buffer) => (body += c));
  req.on("end", () => {
    try {
      addAccounts(JSON.parse(body) as { name: string; plan: string }[]);
      res.statusCode = 204;
    } catch (err) {
      res.statusCode = 400;
      res.write(String(err));
    }
    res.end();
  });
});
await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
// Envoy and the load generator keep connections open across runs; Node's 5 s default would
// close idle ones between runs and count reconnects as latency.
accessServer.keepAliveTimeout = 120_000;
process.stdout.write(`${JSON.stringify({ ready: true, accessPort: (accessServer.address() as AddressInfo).port, storagePort, controlPort: (control.address() as AddressInfo).port })}\n`);

function stop(): void {
  accessServer.closeAllConnections();
  storageServer.closeAllConnections();
  control.close();
  accessServer.close(() => storageServer.close(() => {
    access.close();
    accounts.close();
    storage.close();
    process.exit(0);
  }));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
