export declare const DIST_DIR: string;
export declare const BUILD_META: string;
export declare const BUILD_INPUTS: readonly string[];
export declare function buildServer(): Promise<void>;
