// One Vite build for every app's browser UI: web/<app>/index.html → dist/web/<app>/, plus web/shared/public/ at the root.
import { readdirSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const webDir = resolve(import.meta.dirname, 'web');
const inputs = Object.fromEntries(
  readdirSync(webDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(resolve(webDir, d.name, 'index.html')))
    .map((d) => [d.name, resolve(webDir, d.name, 'index.html')]),
);

export default defineConfig({
  root: webDir,
  base: '/',
  // Shared files served as they are at the root: /theme.css and /favicon.svg, also used by the
  // server-rendered landing and 404 pages, which cannot know the hashed asset names.
  publicDir: resolve(webDir, 'shared/public'),
  plugins: [react()],
  build: {
    outDir: resolve(import.meta.dirname, 'dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: inputs },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/ws': { target: 'ws://127.0.0.1:8080', ws: true } } },
});
