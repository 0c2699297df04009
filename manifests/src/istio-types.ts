// Types and schema checks for the Istio kinds the manifests emit, on top of @kubernetes-models/istio
// 2.3.0 (the newest release whose packages support Node 20; 3.x wants Node 22). That release predates
// Istio 1.22, so two facts from Istio's API reference fill the gap:
//  - Istio 1.22 promoted Gateway, VirtualService (networking) and PeerAuthentication (security) to
//    `v1` with the same schema as `v1beta1`: the `v1` objects are checked against the `v1beta1` models
//    with only the apiVersion told apart;
//  - WasmPlugin (extensions.istio.io/v1alpha1) gained `failStrategy` (FAIL_CLOSE | FAIL_OPEN) and
//    `type` (UNSPECIFIED_PLUGIN_TYPE | HTTP | NETWORK): added here by hand and checked at run time.
import { Gateway as GatewayV1beta1, VirtualService as VirtualServiceV1beta1, type IGateway as IGatewayV1beta1, type IVirtualService as IVirtualServiceV1beta1 } from "@kubernetes-models/istio/networking.istio.io/v1beta1";
import { PeerAuthentication as PeerAuthenticationV1beta1, type IPeerAuthentication as IPeerAuthenticationV1beta1 } from "@kubernetes-models/istio/security.istio.io/v1beta1";
import { WasmPlugin as WasmPluginModel, type IWasmPlugin as IWasmPluginModel } from "@kubernetes-models/istio/extensions.istio.io/v1alpha1";
import { EnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3";

/** networking.istio.io/v1alpha3 EnvoyFilter, as the 2.3.0 model has it (still v1alpha3 in Istio 1.22+). */
export type { IEnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3";

type Promoted<T extends { apiVersion: string }, V extends string> = Omit<T, "apiVersion"> & { apiVersion: V };

/** networking.istio.io/v1 Gateway: the v1beta1 schema, promoted unchanged in Istio 1.22. */
export type IGateway = Promoted<IGatewayV1beta1, "networking.istio.io/v1">;
/** networking.istio.io/v1 VirtualService: the v1beta1 schema, promoted unchanged in Istio 1.22. */
export type IVirtualService = Promoted<IVirtualServiceV1beta1, "networking.istio.io/v1">;
/** security.istio.io/v1 PeerAuthentication: the v1beta1 schema, promoted unchanged in Istio 1.22. */
export type IPeerAuthentication = Promoted<IPeerAuthenticationV1beta1, "security.istio.io/v1">;

/** WasmPlugin failure policy (Istio 1.20+). */
export const WASM_FAIL_STRATEGIES = ["FAIL_CLOSE", "FAIL_OPEN"] as const;
/** WasmPlugin plugin type (Istio 1.20+). */
export const WASM_PLUGIN_TYPES = ["UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK"] as const;

/** extensions.istio.io/v1alpha1 WasmPlugin with the fields newer than the 2.3.0 model. */
export interface IWasmPlugin extends Omit<IWasmPluginModel, "spec"> {
  spec?: NonNullable<IWasmPluginModel["spec"]> & {
    failStrategy?: (typeof WASM_FAIL_STRATEGIES)[number];
    type?: (typeof WASM_PLUGIN_TYPES)[number];
  };
}

/** What schemaCheckObjects needs of a model: construct from the object, then validate() throws on a violation. */
export type ModelClass = new (data: never) => { validate(): void };

/** A model that validates a promoted `v1` object against the `v1beta1` schema it was promoted from. */
function promoted(Model: new (data: never) => { validate(): void }, from: string): ModelClass {
  return class {
    private readonly data: Record<string, unknown>;
    constructor(data: never) {
      this.data = data as Record<string, unknown>;
    }
    validate(): void {
      new Model({ ...this.data, apiVersion: from } as never).validate();
    }
  };
}

/** The 2.3.0 WasmPlugin schema, plus the enums of the two newer fields; throws naming the field. */
class WasmPlugin {
  private readonly data: IWasmPlugin;
  constructor(data: never) {
    this.data = data as IWasmPlugin;
  }
  validate(): void {
    const spec = this.data.spec ?? {};
    const { failStrategy, type, ...older } = spec as Record<string, unknown>;
    new WasmPluginModel({ ...this.data, spec: older } as never).validate();
    if (failStrategy !== undefined && !(WASM_FAIL_STRATEGIES as readonly unknown[]).includes(failStrategy)) {
      throw new Error(`spec/failStrategy must be equal to one of the allowed values (${WASM_FAIL_STRATEGIES.join(", ")})`);
    }
    if (type !== undefined && !(WASM_PLUGIN_TYPES as readonly unknown[]).includes(type)) throw new Error(`spec/type must be equal to one of the allowed values (${WASM_PLUGIN_TYPES.join(", ")})`);
  }
}

/** Runtime models of the Istio kinds, keyed by `apiVersion/kind`. */
export const ISTIO_MODELS: Record<string, ModelClass> = {
  "extensions.istio.io/v1alpha1/WasmPlugin": WasmPlugin,
  "networking.istio.io/v1alpha3/EnvoyFilter": EnvoyFilter,
  "networking.istio.io/v1/Gateway": promoted(GatewayV1beta1, "networking.istio.io/v1beta1"),
  "networking.istio.io/v1/VirtualService": promoted(VirtualServiceV1beta1, "networking.istio.io/v1beta1"),
  "security.istio.io/v1/PeerAuthentication": promoted(PeerAuthenticationV1beta1, "security.istio.io/v1beta1"),
};
