/**
 * The rate-limit service as its own process (Kubernetes): REDIS_URL (required),
 * RATELIMIT_SIDECAR_SECRET (required: the x-hub-sidecar value Envoy's quota route adds),
 * RATELIMIT_GRPC_PORT (default 8081), RATELIMIT_HTTP_PORT (default 8082), RATELIMIT_HOST
 * (default 0.0.0.0). Only listens; the service is service.ts. Exits 1 with one line on a bad
 * setting or an unreachable Redis.
 * @module
 */
import { startRateLimitService } from "./start.ts";

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  const p = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`${name}: must be an integer port 1-65535, got ${JSON.stringify(raw)}`);
  return p;
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error("REDIS_URL: required (redis://host:port)");
  const sidecarSecret = process.env.RATELIMIT_SIDECAR_SECRET ?? "";
  if (sidecarSecret.length < 16) throw new Error("RATELIMIT_SIDECAR_SECRET: required, at least 16 characters");
  const server = await startRateLimitService({
    redisUrl,
    sidecarSecret,
    host: process.env.RATELIMIT_HOST || "0.0.0.0",
    grpcPort: port("RATELIMIT_GRPC_PORT", 8081),
    httpPort: port("RATELIMIT_HTTP_PORT", 8082),
  });
  console.log(`rate-limit service: gRPC ${server.grpcAddress}, HTTP ${server.httpUrl}, Redis ${redisUrl}`);
  const onSignal = () => void server.stop().then(() => process.exit(0));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

main().catch((err: Error) => {
  console.error(`ratelimit: ${err.message}`);
  process.exit(1);
});
