import { defineConfig } from 'vite';

// `npm run dev -w @shelfsight/dashboard` proxies the API and socket.io to a local cloud.
const cloud = process.env.SHELFSIGHT_CLOUD_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    proxy: {
      '/api': cloud,
      '/socket.io': { target: cloud, ws: true },
    },
  },
});
