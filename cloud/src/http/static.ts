import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Router } from 'express';

/**
 * Serves the built dashboard. When it has not been built, `/` explains how to build it instead of
 * answering a bare 404, which is the first thing a new developer would hit.
 */
export const dashboardRouter = (dir: string): Router => {
  const r = express.Router();
  const index = join(dir, 'index.html');
  r.use(express.static(dir, { index: 'index.html', maxAge: '1h', setHeaders: noCacheForHtml }));
  r.get('/', (_req, res) => {
    if (existsSync(index)) return res.sendFile(index, { headers: { 'cache-control': 'no-cache' } });
    res
      .status(503)
      .type('html')
      .send(
        `<!doctype html><meta charset="utf-8"><title>ShelfSight</title>` +
          `<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5">` +
          `<h1>ShelfSight cloud is running</h1><p>The dashboard has not been built yet (looked in <code>${escapeHtml(dir)}</code>).</p>` +
          `<p>Build it with <code>npm run build -w @shelfsight/dashboard</code> and reload. ` +
          `The API is at <a href="/api/v1/fixtures"><code>/api/v1</code></a>.</p></body>`,
      );
  });
  // Client-side routes (/outlets/…, /promotions, …) load the app; /api and files keep their 404s.
  r.get(/^\/(?!api\/|socket\.io\/)[^.]*$/, (req, res, next) => {
    if (!existsSync(index) || !req.accepts('html')) return next();
    res.sendFile(index, { headers: { 'cache-control': 'no-cache' } });
  });
  return r;
};

const noCacheForHtml = (res: express.Response, path: string): void => {
  // Hashed assets may be cached; index.html must not be, or a rebuild would not show up.
  if (path.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
};

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
