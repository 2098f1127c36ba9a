import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (ws: string) => fileURLToPath(new URL(`../../${ws}/src/index.ts`, import.meta.url));

/** Runs only the dashboard benchmark (not part of `npm test`). */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@shelfsight\/protocol$/, replacement: src('protocol') },
      { find: /^@shelfsight\/cloud$/, replacement: src('cloud') },
    ],
  },
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['dashboard/bench/*-bench.ts'],
    testTimeout: 3_600_000,
  },
});
