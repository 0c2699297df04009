// Installs a jsdom window as the global DOM. A module of its own so it runs before react-dom is
// evaluated: react-dom decides at load time whether a DOM exists and which events it supports.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>", { url: "http://127.0.0.1:8080/", pretendToBeVisual: true });
const g = globalThis as Record<string, unknown>;
for (const key of ["window", "document", "navigator", "localStorage", "HTMLElement", "HTMLInputElement", "Node", "Event", "MouseEvent", "KeyboardEvent", "getComputedStyle", "requestAnimationFrame", "cancelAnimationFrame"]) {
  Object.defineProperty(globalThis, key, { value: (dom.window as unknown as Record<string, unknown>)[key], configurable: true, writable: true });
}
g.IS_REACT_ACT_ENVIRONMENT = true;
// jsdom has no layout, and its scrollTo only logs "not implemented" on every navigation.
dom.window.scrollTo = () => {};

/** The jsdom window, for tests that need its classes. */
export const win = dom.window;
