// Types for after-pack.mjs (plain JavaScript, as electron-builder loads it), for its test.
import type { FuseV1Config } from '@electron/fuses';

export interface AfterPackContextLike {
  appOutDir: string;
  electronPlatformName: string;
  arch: number;
  packager: { appInfo: { productFilename: string }; executableName?: string };
}
export const FUSES: FuseV1Config;
export function electronBinary(context: AfterPackContextLike): string;
export default function afterPack(context: AfterPackContextLike): Promise<void>;
