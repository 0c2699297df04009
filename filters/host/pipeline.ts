/**
 * One direction of Envoy's HTTP filter manager (decoder filters in order, or encoder filters in
 * reverse): headers, data and trailers iterate across filters, stop, buffer and resume on
 * continue (proxy-wasm-host.md §4.2 "Headers paused", "Body buffer content").
 */
import { type FilterStatus } from "./abi.ts";
import { type BodyBuffer } from "./context.ts";
import { type FilterStream } from "./filter-stream.ts";
import { type HeaderMap } from "./headers.ts";

/** Where frames go once every filter let them through (the router, or the client). */
export interface DirectionSink {
  headers(map: HeaderMap, endOfStream: boolean): void;
  data(bytes: Uint8Array, endOfStream: boolean): void;
  trailers(map: HeaderMap): void;
  /** Held data grew past the buffer limit. */
  overflow(): void;
}

type StopKind = "headers" | "headersAll" | "data" | "trailers";

function concat(a: Uint8Array | undefined, b: Uint8Array): Uint8Array {
  if (!a || a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const isStop = (s: FilterStatus) => s !== "Continue";

/** Direction: iteration state of one direction of one stream. */
export class Direction {
  /** Set by a local reply or reset: nothing more iterates. */
  aborted = false;
  /** Trailers a filter created in the last data callback (addDecodedTrailers/addEncodedTrailers). */
  addedTrailers: HeaderMap | undefined;
  private headerMap: HeaderMap | undefined;
  private headersEnd = false;
  private stoppedAt = -1;
  private stopKind: StopKind | undefined;
  private held: { data?: Uint8Array; dataArrived: boolean; eos: boolean; trailers?: HeaderMap } = { dataArrived: false, eos: false };

  /**
   * @param filters the filters in this direction's order (decoders in chain order, encoders reversed)
   * @param decoding true for the request direction (decode callbacks), false for the response
   */
  constructor(
    private readonly filters: readonly FilterStream[],
    private readonly decoding: boolean,
    private readonly sink: DirectionSink,
    private readonly bufferLimit: number,
  ) {}

  private callHeaders(i: number, map: HeaderMap, endOfStream: boolean): FilterStatus {
    return this.decoding ? this.filters[i].requestHeaders(map, endOfStream) : this.filters[i].responseHeaders(map, endOfStream);
  }

  private callData(i: number, buffer: BodyBuffer, endOfStream: boolean): FilterStatus {
    return this.decoding ? this.filters[i].requestBody(buffer, endOfStream) : this.filters[i].responseBody(buffer, endOfStream);
  }

  private callTrailers(i: number, map: HeaderMap): FilterStatus {
    return this.decoding ? this.filters[i].requestTrailers(map) : this.filters[i].responseTrailers(map);
  }

  /** The headers map travelling this direction (undefined before headers). */
  get headers(): HeaderMap | undefined {
    return this.headerMap;
  }

  /** feedHeaders starts the direction with its headers. */
  feedHeaders(map: HeaderMap, endOfStream: boolean): void {
    this.headerMap = map;
    this.headersEnd = endOfStream;
    this.iterateHeaders(0);
  }

  /** feedData sends a data frame from the first filter. */
  feedData(bytes: Uint8Array, endOfStream: boolean): void {
    this.dataFrom(0, bytes, endOfStream);
  }

  /** feedTrailers sends trailers from the first filter. */
  feedTrailers(map: HeaderMap): void {
    this.trailersFrom(0, map);
  }

  /** resume is continueDecoding/continueEncoding from filter `index`; a no-op unless it is paused there. */
  resume(index: number): void {
    if (this.aborted || index !== this.stoppedAt) return;
    const kind = this.stopKind;
    const held = this.held;
    this.stoppedAt = -1;
    this.stopKind = undefined;
    this.held = { dataArrived: false, eos: false };
    if (kind === "headers" || kind === "headersAll") {
      this.iterateHeaders(index + 1);
      // StopAll buffered frames this filter has not seen yet: they start at the filter itself.
      const dataStart = kind === "headersAll" ? index : index + 1;
      if (held.dataArrived) this.dataFrom(dataStart, held.data ?? new Uint8Array(0), held.eos);
      if (held.trailers) this.trailersFrom(dataStart, held.trailers);
      return;
    }
    if (held.dataArrived || kind === "data") this.dataFrom(index + 1, held.data ?? new Uint8Array(0), kind === "data" ? held.eos : false);
    if (held.trailers) this.trailersFrom(index + 1, held.trailers);
  }

  private iterateHeaders(from: number): void {
    const map = this.headerMap!;
    for (let i = from; i < this.filters.length; i++) {
      const status = this.callHeaders(i, map, this.headersEnd);
      if (this.aborted) return;
      if (isStop(status)) {
        this.stop(i, status === "StopIteration" ? "headers" : "headersAll");
        return;
      }
    }
    this.sink.headers(map, this.headersEnd);
  }

  private dataFrom(from: number, bytes: Uint8Array, endOfStream: boolean): void {
    const buffer: BodyBuffer = { bytes };
    let eos = endOfStream;
    for (let i = from; i < this.filters.length; i++) {
      if (this.aborted) return;
      if (i === this.stoppedAt) {
        if (this.stopKind === "headersAll" || this.stopKind === "trailers") {
          this.hold(concat(this.held.data, buffer.bytes), eos);
          return;
        }
        buffer.bytes = concat(this.held.data, buffer.bytes);
      }
      const trailersBefore = this.addedTrailers;
      const status = this.callData(i, buffer, eos);
      if (this.aborted) return;
      if (i === this.stoppedAt && !isStop(status)) {
        const releaseHeaders = this.stopKind === "headers";
        this.stoppedAt = -1;
        this.stopKind = undefined;
        this.held = { dataArrived: false, eos: false };
        if (releaseHeaders) this.iterateHeaders(i + 1);
      } else if (isStop(status)) {
        if (this.stoppedAt !== i) this.stop(i, "data");
        this.hold(status === "StopIterationNoBuffer" ? new Uint8Array(0) : buffer.bytes, eos);
        return;
      }
      if (eos && this.addedTrailers && !trailersBefore) eos = false;
    }
    this.sink.data(buffer.bytes, eos);
    if (endOfStream && !eos && this.addedTrailers) this.sink.trailers(this.addedTrailers);
  }

  private trailersFrom(from: number, map: HeaderMap): void {
    for (let i = from; i < this.filters.length; i++) {
      if (this.aborted) return;
      if (i === this.stoppedAt && this.stopKind === "headersAll") {
        this.held.trailers = map;
        return;
      }
      const status = this.callTrailers(i, map);
      if (this.aborted) return;
      if (i === this.stoppedAt) {
        if (isStop(status)) {
          this.stopKind = "trailers";
          this.held.trailers = map;
          return;
        }
        // Trailers continued past a filter holding data or headers: release those first.
        this.held.trailers = undefined;
        this.resume(i);
        return this.trailersFrom(i + 1, map);
      }
      if (isStop(status)) {
        this.stop(i, "trailers");
        this.held.trailers = map;
        return;
      }
    }
    this.sink.trailers(map);
  }

  private stop(index: number, kind: StopKind): void {
    this.stoppedAt = index;
    this.stopKind = kind;
  }

  private hold(data: Uint8Array, eos: boolean): void {
    this.held.data = data;
    this.held.dataArrived = true;
    this.held.eos = eos;
    if (data.length > this.bufferLimit) this.sink.overflow();
  }
}
