// Typed client for the SFE REST API (docs/api.md), shared by the SPA and the CLI. Types
// come from @sfe/contract; at run time it needs only fetch (and XMLHttpRequest for
// upload progress in browsers), so it runs in browsers and Node >= 20.
export { createApiClient, type ApiClient, type RequestOptions } from './client.ts';
export { buildUrl, type ApiClientOptions } from './http.ts';
export { ApiError, ApiNetworkError, isApiError, isAbortError, type ProblemField } from './errors.ts';
export { buildUploadForm, type TransferProgress, type UploadOptions } from './upload.ts';
export {
  collectBlob,
  consume,
  parseContentDisposition,
  pipeToWritable,
  type DownloadResponse,
  type ReadOptions,
} from './download.ts';
export { saveDownload, type SaveOutcome } from './browser-save.ts';
export * from './constants.ts';
