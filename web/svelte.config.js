import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // The build's handler runs inside the edge server (server/main.ts), which serves the API beside it.
    adapter: adapter({ out: 'build' }),
  },
};
