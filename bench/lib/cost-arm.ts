// The shape of one arm of the "filter cost in Envoy" table, shared by the section and its diagnostics.
import type { Harness } from "./deps.ts";
import type { HeaderSet } from "./us-client.ts";

type StartOptions = Parameters<Harness["startEnvoy"]>[0];

/** One arm of the table: its own Envoy, filters, routes and the client's header sets. */
export interface ArmSpec {
  id: string;
  label: string;
  filters: StartOptions["filters"];
  routes?: StartOptions["routes"];
  headers: HeaderSet[];
  wasm: string[];
  /** Sizes read when the arm is set up, before any rebuild could change the files. */
  moduleBytes?: number | null;
  /** An arm of a one-off diagnostic (BENCH_COST_ADD_HEADER_SPLIT): kept whatever BENCH_COST_ARMS says. */
  diagnostic?: boolean;
}
