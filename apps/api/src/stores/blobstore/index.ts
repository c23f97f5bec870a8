export * from './blob-store.ts';
export { createFsBlobStore } from './fs-blob-store.ts';
