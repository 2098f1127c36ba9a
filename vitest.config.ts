import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (ws: string) => fileURLToPath(new URL(`./${ws}/src/index.ts`, import.meta.url));

// Tests import workspace packages from source, so `npm test` needs no build step.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@shelfsight\/protocol$/, replacement: src('protocol') },
      { find: /^@shelfsight\/edge-agent$/, replacement: src('edge-agent') },
      {
        find: /^@shelfsight\/edge-agent\/recognition$/,
        replacement: fileURLToPath(new URL('./edge-agent/src/recognition/index.ts', import.meta.url)),
      },
      { find: /^@shelfsight\/cloud$/, replacement: src('cloud') },
      { find: /^@shelfsight\/simulators$/, replacement: src('simulators') },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/setup/build.ts', 'tests/setup/tmpdir.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // CI=true turns a skipped or todo test into a failure (see .ci/run).
    allowOnly: false,
  },
});
