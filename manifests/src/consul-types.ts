// Hand-written types for the Consul CRDs the manifests use (consul.hashicorp.com/v1alpha1), because no
// @kubernetes-models package covers Consul. Written from Consul's configuration-entry reference
// (service-defaults, service-intentions, service-router, ingress-gateway) and the builtin/wasm and
// builtin/lua Envoy extension docs; only the fields listed there exist here, so tsc's excess-property check rejects a
// misspelled field just as it does for the Kubernetes and Istio models.
import type { IObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";

/** Consul's builtin/wasm `Arguments.PluginConfig.VmConfig.Code.Remote`: code fetched over an upstream. */
export interface ConsulWasmRemote {
  HttpURI: {
    Service: { Name: string; Namespace?: string; Partition?: string };
    URI: string;
    Timeout?: string;
  };
  SHA256: string;
  RetryPolicy?: { RetryBackOff?: { BaseInterval?: string; MaxInterval?: string }; NumRetries?: number };
}

/** Consul's builtin/wasm `Arguments` (agent/envoyextensions/builtin/wasm). */
export interface ConsulWasmArguments {
  Protocol: "tcp" | "http";
  ListenerType: "inbound" | "outbound";
  ProxyType?: "connect-proxy";
  PluginConfig: {
    Name?: string;
    RootID?: string;
    VmConfig: {
      VmID?: string;
      Runtime?: "v8" | "wasmtime" | "wamr" | "wavm";
      Code: { Local: { Filename: string }; Remote?: never } | { Remote: ConsulWasmRemote; Local?: never };
      Configuration?: string;
      EnvironmentVariables?: { HostEnvKeys?: string[]; KeyValues?: Record<string, string> };
    };
    Configuration?: string;
    CapabilityRestrictionConfiguration?: { AllowedCapabilities?: Record<string, Record<string, never>> };
  };
}

/** Consul's builtin/lua `Arguments` (agent/envoyextensions/builtin/lua): ProxyType has no default there. */
export interface ConsulLuaArguments {
  ProxyType: "connect-proxy";
  Listener: "inbound" | "outbound";
  Script: string;
}

interface ExtensionCommon {
  required?: boolean;
  consulVersion?: string;
  envoyVersion?: string;
}

/** One entry of ServiceDefaults `spec.envoyExtensions`: builtin/wasm or builtin/lua. */
export type ConsulEnvoyExtension = ExtensionCommon & ({ name: "builtin/wasm"; arguments: ConsulWasmArguments } | { name: "builtin/lua"; arguments: ConsulLuaArguments });

/** `consul.hashicorp.com/v1alpha1` ServiceDefaults. */
export interface IServiceDefaults {
  apiVersion: "consul.hashicorp.com/v1alpha1";
  kind: "ServiceDefaults";
  metadata?: IObjectMeta;
  spec?: {
    protocol?: "tcp" | "http" | "http2" | "grpc";
    mode?: "transparent" | "direct";
    transparentProxy?: { outboundListenerPort?: number; dialedDirectly?: boolean };
    mutualTLSMode?: "" | "strict" | "permissive";
    meshGateway?: { mode?: "none" | "local" | "remote" };
    externalSNI?: string;
    maxInboundConnections?: number;
    localConnectTimeoutMs?: number;
    localRequestTimeoutMs?: number;
    balanceInboundConnections?: "" | "exact_balance";
    envoyExtensions?: ConsulEnvoyExtension[];
  };
}

/** One source of ServiceIntentions. */
export interface ConsulIntentionSource {
  name: string;
  namespace?: string;
  partition?: string;
  peer?: string;
  samenessGroup?: string;
  action: "allow" | "deny";
  description?: string;
}

/** `consul.hashicorp.com/v1alpha1` ServiceIntentions. */
export interface IServiceIntentions {
  apiVersion: "consul.hashicorp.com/v1alpha1";
  kind: "ServiceIntentions";
  metadata?: IObjectMeta;
  spec: {
    destination: { name: string; namespace?: string };
    sources: ConsulIntentionSource[];
  };
}

/** `consul.hashicorp.com/v1alpha1` ServiceRouter (L7 routes of one service name). */
export interface IServiceRouter {
  apiVersion: "consul.hashicorp.com/v1alpha1";
  kind: "ServiceRouter";
  metadata?: IObjectMeta;
  spec: {
    routes: Array<{
      match?: { http?: { pathExact?: string; pathPrefix?: string; pathRegex?: string; methods?: string[] } };
      destination?: {
        service?: string;
        serviceSubset?: string;
        namespace?: string;
        prefixRewrite?: string;
        requestTimeout?: string;
        idleTimeout?: string;
        numRetries?: number;
        retryOnConnectFailure?: boolean;
        retryOnStatusCodes?: number[];
      };
    }>;
  };
}

/** `consul.hashicorp.com/v1alpha1` IngressGateway. */
export interface IIngressGateway {
  apiVersion: "consul.hashicorp.com/v1alpha1";
  kind: "IngressGateway";
  metadata?: IObjectMeta;
  spec: {
    tls?: { enabled?: boolean };
    listeners: Array<{
      port: number;
      protocol: "tcp" | "http" | "http2" | "grpc";
      services: Array<{
        name: string;
        namespace?: string;
        hosts?: string[];
        requestHeaders?: { add?: Record<string, string>; set?: Record<string, string>; remove?: string[] };
        responseHeaders?: { add?: Record<string, string>; set?: Record<string, string>; remove?: string[] };
      }>;
    }>;
  };
}
