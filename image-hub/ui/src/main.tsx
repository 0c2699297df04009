/** @jsxRuntime automatic */
// Browser entry: one API client for the whole app, the session around it, and the styles.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApi } from "./api.ts";
import { App } from "./App.tsx";
import { SessionProvider } from "./session.tsx";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <SessionProvider api={createApi()}>
      <App />
    </SessionProvider>
  </StrictMode>,
);
