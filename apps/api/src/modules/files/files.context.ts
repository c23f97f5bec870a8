/**
 * Associated data binding ciphertexts to their file. Changing these strings makes
 * every stored file unreadable: they are part of the storage format.
 */
export const blobAssociatedData = (fileId: string) => Buffer.from(`sfe:blob:v1:${fileId}`, 'utf8');
export const dekAssociatedData = (fileId: string) => Buffer.from(`sfe:file-dek:v1:${fileId}`, 'utf8');
