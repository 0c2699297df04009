/** @jsxRuntime automatic */
// History-mode routing (real paths, no "#"), as the original UI's hash router was a known fault.
// Hand-written rather than a router library because the app has seven flat routes and needs only
// the current path, navigation and a link; the stack's static server falls back to index.html.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

const changeEvent = "image-hub:navigate";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(changeEvent, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(changeEvent, onChange);
  };
}

const current = () => window.location.pathname + window.location.search;

/** The current path with its query string ("/login?next=%2Fplans"); re-renders on navigation. Browser only. */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, current, () => "/");
}

/** Moves to a same-origin path without reloading. Browser only; a path not starting with "/" is refused. */
export function navigate(path: string): void {
  if (!path.startsWith("/") || path.startsWith("//")) throw new Error(`navigate: "${path}" is not a same-origin path`);
  if (path === current()) return;
  window.history.pushState(null, "", path);
  window.dispatchEvent(new Event(changeEvent));
  window.scrollTo?.(0, 0);
}

/** An <a> whose plain left click navigates in-app; modified clicks (new tab, etc.) stay native. */
export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}

/** The query parameter `name` of a location string, or null. Pure; callable anywhere. */
export function queryParam(location: string, name: string): string | null {
  const q = location.indexOf("?");
  return q < 0 ? null : new URLSearchParams(location.slice(q + 1)).get(name);
}

/**
 * A `next` target that is safe to navigate to after log-in: only same-origin paths, so a crafted
 * link cannot send the user elsewhere. Returns the fallback otherwise.
 */
export function safeNext(next: string | null, fallback: string): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : fallback;
}
