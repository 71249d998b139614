export interface CliContext {
  dataDir: string;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Where interactive commands (chat) read lines; process.stdin by default. */
  stdin?: NodeJS.ReadableStream;
}
