import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// Built into dist/ and embedded in the server binary (src/http/desktop.rs): one origin, no CDN.
export default defineConfig({
  plugins: [preact()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2020' },
});
