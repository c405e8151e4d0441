/**
 * Bundles the web view (web/) into dist/web: index.html, app.js (cytoscape, uPlot and the page, one
 * IIFE) and app.css, with esbuild. Run by `npm run build` and scripts/setup.sh after tsc; idempotent.
 * The controller serves dist/web (controller/rest/ui.ts); nothing is fetched from outside at run time.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'dist', 'web');

export async function buildWeb(opts: { readonly minify?: boolean } = {}): Promise<void> {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { app: join(root, 'web', 'src', 'main.ts') },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    outdir: out,
    minify: opts.minify ?? true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWeb({ minify: !process.argv.includes('--no-minify') }).then(
    () => console.log(`[build-web] ${out}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
