// electron-builder's afterPack hook (electron-builder.yml): sets the Electron fuses on the packaged
// binary, before signing, so they cannot be changed without breaking the signature. Each fuse turns
// off a way to run code in the app other than its own signed asar:
//   RunAsNode off              ELECTRON_RUN_AS_NODE cannot turn the app into a plain Node
//   NodeOptions off            NODE_OPTIONS (e.g. --require) is ignored
//   NodeCliInspect off         --inspect / --inspect-brk are ignored
//   OnlyLoadAppFromAsar on     no app/ folder beside the asar is loaded instead
//   AsarIntegrity on           the asar's hash is checked at start (macOS and Windows)
//   CookieEncryption on        cookies at rest are encrypted with the OS key
//   FileProtocolExtraPrivileges off   file:// gets no more than any other scheme (the UI is app://)
import path from 'node:path';
import { flipFuses, FuseV1Options, FuseVersion } from '@electron/fuses';

export const FUSES = {
  version: FuseVersion.V1,
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.EnableCookieEncryption]: true,
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
};

/** The packaged Electron executable in electron-builder's appOutDir. */
export function electronBinary(context) {
  const { appOutDir, packager, electronPlatformName } = context;
  const name = packager.appInfo.productFilename;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas') return path.join(appOutDir, `${name}.app`);
  if (electronPlatformName === 'win32') return path.join(appOutDir, `${name}.exe`);
  return path.join(appOutDir, packager.executableName);
}

export default async function afterPack(context) {
  await flipFuses(electronBinary(context), {
    ...FUSES,
    // Apple silicon refuses a modified binary until it is signed again (ad hoc here; the real signature comes next).
    resetAdHocDarwinSignature: context.electronPlatformName === 'darwin' && context.arch === 3, // builder-util Arch.arm64
  });
}
