// Rendering and interaction helpers for component tests in node:test, on the jsdom window that
// dom-globals.ts installs. Component files start with a `@jsxRuntime automatic` pragma because tsx
// applies the root tsconfig only to the files it includes (not image-hub/ui), and esbuild's default
// JSX transform would otherwise need React in scope.
import { win } from "./dom-globals.ts";
import { act, type ReactNode } from "react";
import { createRoot, type Root } from "react-dom/client";

let root: Root | null = null;
let container: HTMLElement | null = null;

/** Renders into a fresh container, replacing anything rendered before; resolves after effects ran. */
export async function render(node: ReactNode): Promise<HTMLElement> {
  await unmount();
  container = document.createElement("div");
  document.body.appendChild(container);
  root = createRoot(container);
  await act(async () => root!.render(node));
  return container;
}

async function unmount(): Promise<void> {
  if (root) await act(async () => root!.unmount());
  root = null;
  container?.remove();
  container = null;
}

/** Unmounts what `render` mounted, empties storage and returns to "/"; for afterEach. */
export async function cleanup(): Promise<void> {
  await unmount();
  localStorage.clear();
  window.history.replaceState(null, "", "/");
}

/** Clicks an element inside act, so state updates and effects have settled when it resolves. */
export async function click(el: Element | null): Promise<void> {
  if (!el) throw new Error("click: element not found");
  await act(async () => {
    el.dispatchEvent(new win.MouseEvent("click", { bubbles: true, cancelable: true, button: 0 }));
  });
}

/** Types into an input the way React notices (native value setter, then an input event). */
export async function type(el: Element | null, value: string): Promise<void> {
  if (!el) throw new Error("type: element not found");
  const proto = el instanceof win.HTMLSelectElement ? win.HTMLSelectElement.prototype : win.HTMLInputElement.prototype;
  await act(async () => {
    Object.getOwnPropertyDescriptor(proto, "value")!.set!.call(el, value);
    el.dispatchEvent(new win.Event(el instanceof win.HTMLSelectElement ? "change" : "input", { bubbles: true }));
  });
}

/** Submits a form inside act. */
export async function submit(form: Element | null): Promise<void> {
  if (!form) throw new Error("submit: form not found");
  await act(async () => {
    form.dispatchEvent(new win.Event("submit", { bubbles: true, cancelable: true }));
  });
}

/**
 * Waits (bounded: 100 rounds of a macrotask) until `check` returns a truthy value, letting pending
 * promises and React updates run in between. Throws with `what` when it never does.
 */
export async function waitFor<T>(check: () => T, what: string): Promise<NonNullable<T>> {
  for (let i = 0; i < 100; i++) {
    const value = check();
    if (value) return value as NonNullable<T>;
    await act(async () => {
      await new Promise((r) => setTimeout(r, 5));
    });
  }
  throw new Error(`waitFor: ${what} did not happen; page text: ${document.body.textContent?.slice(0, 500)}`);
}

/** The first element (in document order) whose text content includes `text`, among `selector` matches. */
export function byText(selector: string, text: string): HTMLElement | null {
  return ([...document.querySelectorAll(selector)] as HTMLElement[]).find((e) => e.textContent?.includes(text)) ?? null;
}
