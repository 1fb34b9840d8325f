import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Served by `iotdefender serve` under /console/. No inline scripts: the server's
// Content-Security-Policy allows only same-origin script and style files.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4000,
  },
});
