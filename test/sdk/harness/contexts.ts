// Test module for the SDK's context bookkeeping (dispatcher.ts, table.ts): every HTTP stream and TCP
// connection logs which context object a callback reached, so a test can drive thousands of
// interleaved contexts and check that each callback finds its own.
//   root id "http": streams are HttpContexts; onRequestHeaders logs "h <contextId> <calls>", onDelete "d <contextId>"
//   root id "tcp":  streams are TcpContexts; onNewConnection logs "t <contextId> <calls>", onDelete "d <contextId>"
//   root id "" (the fallback for any other id): like "http", logging "f …"
//   a second registration of "http", logging "dup …": the first registration of an id must win
export * from "proxy-wasm-as-sdk/abi/exports";
import { FilterHeadersStatus, FilterStatus, HttpContext, logInfo, registerRootContext, RootContext, TcpContext } from "proxy-wasm-as-sdk";

class Stream extends HttpContext {
  calls: u32 = 0;
  constructor(contextId: u32, readonly named: HttpRoot) {
    super(contextId, named);
  }
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.calls++;
    logInfo(this.named.tag + " " + this.contextId.toString() + " " + this.calls.toString());
    return FilterHeadersStatus.Continue;
  }
  onDelete(): void {
    logInfo("d " + this.contextId.toString());
  }
}

class Connection extends TcpContext {
  calls: u32 = 0;
  onNewConnection(): FilterStatus {
    this.calls++;
    logInfo("t " + this.contextId.toString() + " " + this.calls.toString());
    return FilterStatus.Continue;
  }
  onDelete(): void {
    logInfo("d " + this.contextId.toString());
  }
}

class HttpRoot extends RootContext {
  constructor(contextId: u32, readonly tag: string) {
    super(contextId);
  }
  createHttpContext(contextId: u32): HttpContext {
    return new Stream(contextId, this);
  }
}

class TcpRoot extends RootContext {
  createTcpContext(contextId: u32): TcpContext | null {
    return new Connection(contextId, this);
  }
}

registerRootContext((contextId: u32): RootContext => new HttpRoot(contextId, "h"), "http");
registerRootContext((contextId: u32): RootContext => new TcpRoot(contextId), "tcp");
registerRootContext((contextId: u32): RootContext => new HttpRoot(contextId, "f"));
registerRootContext((contextId: u32): RootContext => new HttpRoot(contextId, "dup"), "http");
