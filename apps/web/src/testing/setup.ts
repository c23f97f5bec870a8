import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

// jsdom has no object URLs for its own Blobs (Node's URL.createObjectURL does not
// know them); the download fallback needs one. Blobs handed out are kept so tests
// can read back exactly what would have been saved.
export const createdBlobs: Blob[] = [];
URL.createObjectURL = (blob: Blob) => {
  createdBlobs.push(blob);
  return `blob:test/${createdBlobs.length}`;
};
URL.revokeObjectURL = () => undefined;

// A click on a download link would make jsdom attempt a navigation it cannot do;
// record the suggested file name instead.
export const clickedDownloads: string[] = [];
document.addEventListener('click', (event) => {
  if (event.target instanceof HTMLAnchorElement && event.target.hasAttribute('download')) {
    event.preventDefault();
    clickedDownloads.push(event.target.download);
  }
});

afterEach(() => {
  cleanup();
  createdBlobs.length = 0;
  clickedDownloads.length = 0;
  sessionStorage.clear();
  localStorage.clear();
});
