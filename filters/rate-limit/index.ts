// rate-limit as its own module (the filter is in filter.ts; README.md has the schema).
export * from "proxy-wasm-as-sdk/abi/http";
import { registerRootContext } from "proxy-wasm-as-sdk";
import { FILTER, newRateLimitRoot } from "./filter";

registerRootContext(newRateLimitRoot, FILTER);
