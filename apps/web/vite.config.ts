import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const apiPort = process.env.SFE_API_PORT ?? '3000';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  server: {
    // In development the SPA and the API keep one origin through this proxy, like
    // production where the API serves dist/ itself: no CORS anywhere.
    proxy: { '/api': { target: `http://127.0.0.1:${apiPort}`, changeOrigin: false } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: true,
  },
});
