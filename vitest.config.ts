import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^promptlayer-effect$/, replacement: src("index.ts") },
      { find: /^promptlayer-effect\/(langchain|testing|emulator|promise)$/, replacement: src("$1.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Most of the suite's time is spent waiting (child processes, loopback servers, retry
    // backoffs), not computing: four files at once on 2 cores (vitest's default is cores - 1, so
    // one file at a time here). No test depends on the machine's speed, so contention only costs time.
    maxWorkers: 4,
    // Hang detectors, not performance checks: a CPU-bound case (10 000 loopback calls, 100-run
    // properties) takes 10 s alone and several times that beside other busy processes.
    testTimeout: 300_000,
    hookTimeout: 300_000
  }
})
