// Builds the Image Hub UI into build/ui at the repository root, where the stack's static server
// serves it at `/`. scripts/build.mjs runs `vite build --config image-hub/ui/vite.config.ts`.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  base: "/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../../build/ui", import.meta.url)),
    emptyOutDir: true,
    // The browser targets are the ones the project tests with (Debian's chromium) and current browsers.
    target: "es2022",
  },
});
