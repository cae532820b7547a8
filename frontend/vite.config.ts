import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build goes into the Python package, which serves it (scalesim studio).
export default defineConfig({
  plugins: [react()],
  base: "./",
  build: {
    outDir: "../src/scalesim/studio/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8765" } },
  test: { include: ["tests/**/*.test.ts"] },
});
