/**
 * Starting the rate-limit service (service.ts) on its two ports, in this process: gRPC for Envoy's
 * ratelimit filter, HTTP for the quota answer and /healthz. Used by the local run (image-hub/start.ts)
 * and by server.ts. Also `checkRateLimitService`, the start-time check of a service run elsewhere.
 * @module
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { RedisBuckets } from "../access/redis-buckets.ts";
import { loadCatalog, type Catalog } from "../catalog.ts";
import { connectRedis } from "../redis.ts";
import { closeServer } from "../services.ts";
import { createRateLimitService, RateLimitError, type RateLimitRequest } from "./service.ts";

const PROTO = fileURLToPath(new URL("./rls.proto", import.meta.url));
/** The gRPC method Envoy calls, as a path. */
export const SHOULD_RATE_LIMIT = "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit";

function rlsDefinition(): grpc.ServiceDefinition {
  const pkg = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true });
  const loaded = grpc.loadPackageDefinition(pkg) as unknown as { envoy: { service: { ratelimit: { v3: { RateLimitService: grpc.ServiceClientConstructor } } } } };
  return loaded.envoy.service.ratelimit.v3.RateLimitService.service;
}

/** Options of startRateLimitService. */
export interface RateLimitStartOptions {
  redisUrl: string;
  sidecarSecret: string;
  catalog?: Catalog;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** gRPC port; 0 (the default) picks a free one. */
  grpcPort?: number;
  /** HTTP port; 0 (the default) picks a free one. */
  httpPort?: number;
  logError?: (err: unknown) => void;
}

/** A running rate-limit service. */
export interface RateLimitServer {
  /** host:port of the gRPC listener. */
  grpcAddress: string;
  grpcPort: number;
  /** http://host:port of the HTTP listener. */
  httpUrl: string;
  httpPort: number;
  /** Closes both listeners and the Redis client; idempotent, never rejects. */
  stop(): Promise<void>;
}

/**
 * startRateLimitService connects to Redis, then listens. Rejects with one line naming the cause
 * (`redis <url> is unreachable: …`, or the port that cannot be bound) with nothing left running.
 */
export async function startRateLimitService(options: RateLimitStartOptions): Promise<RateLimitServer> {
  const catalog = options.catalog ?? loadCatalog();
  const host = options.host ?? "127.0.0.1";
  const client = await connectRedis(options.redisUrl);
  const stops: (() => Promise<void>)[] = [async () => void client.disconnect()];
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  })());
  try {
    const service = createRateLimitService({
      buckets: new RedisBuckets(client, catalog.windowSeconds),
      catalog,
      sidecarSecret: options.sidecarSecret,
      health: async () => void (await client.ping()),
      logError: options.logError,
    });
    const server = new grpc.Server();
    server.addService(rlsDefinition(), {
      shouldRateLimit: (call: grpc.ServerUnaryCall<RateLimitRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        service.shouldRateLimit(call.request).then(
          (res) => callback(null, res),
          (err: Error) => {
            if (!(err instanceof RateLimitError)) (options.logError ?? console.error)(err);
            const code = err instanceof RateLimitError ? grpc.status[err.grpc] : grpc.status.INTERNAL;
            callback({ code, details: err.message });
          },
        );
      },
    });
    const grpcPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${options.grpcPort ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(new Error(`rate-limit service: cannot listen on ${host}:${options.grpcPort ?? 0}: ${err.message}`)) : resolve(port))),
    );
    stops.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
    const http: Server = createServer(service.app);
    const httpPort = await new Promise<number>((resolve, reject) => {
      http.once("error", (err) => reject(new Error(`rate-limit service: cannot listen on ${host}:${options.httpPort ?? 0}: ${err.message}`)));
      http.listen(options.httpPort ?? 0, host, () => resolve((http.address() as AddressInfo).port));
    });
    stops.push(() => closeServer(http));
    return { grpcAddress: `${host}:${grpcPort}`, grpcPort, httpUrl: `http://${host}:${httpPort}`, httpPort, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * checkRateLimitService checks a rate-limit service run elsewhere before the stack relies on it: its
 * gRPC address completes an HTTP/2 handshake and its HTTP side answers /healthz with 200 (Redis
 * reachable). Rejects with one line naming the address that failed; resolves otherwise.
 */
export async function checkRateLimitService(grpcAddress: string, httpUrl: string): Promise<void> {
  const channel = new grpc.Client(grpcAddress, grpc.credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) =>
      channel.waitForReady(Date.now() + 3000, (err) => (err ? reject(new Error(`rate-limit service ${grpcAddress} is unreachable: ${err.message}`)) : resolve())),
    );
  } finally {
    channel.close();
  }
  let res: globalThis.Response;
  try {
    res = await fetch(new URL("/healthz", httpUrl), { signal: AbortSignal.timeout(3000) });
  } catch (err) {
    throw new Error(`rate-limit service ${httpUrl} is unreachable: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`);
  }
  if (res.status !== 200) throw new Error(`rate-limit service ${httpUrl} is not healthy: /healthz answered ${res.status} ${(await res.text()).slice(0, 200)}`);
}
