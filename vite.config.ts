// Builds the site (site/) into dist/ as four pages; the coordinator serves dist/ and maps clean URLs onto them:
// `/` → index.html, `/submit` → submit.html, `/jobs` → jobs.html, `/jobs/:id` → job.html.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const fromRoot = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Pyodide needs SharedArrayBuffer for interrupts, which needs cross-origin isolation (the coordinator sends the same). */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fromRoot('site'),
  appType: 'mpa',
  publicDir: false,
  build: {
    outDir: fromRoot('dist'),
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      input: {
        index: fromRoot('site/index.html'),
        submit: fromRoot('site/submit.html'),
        jobs: fromRoot('site/jobs.html'),
        job: fromRoot('site/job.html'),
      },
    },
  },
  worker: { format: 'es' },
  // Pyodide ships its own loader and wasm; pre-bundling it breaks its relative asset URLs.
  optimizeDeps: { exclude: ['pyodide'] },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
});
