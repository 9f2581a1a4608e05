/** The shape of every module in ./commands. */
export interface Command {
  /** One line for `gatehouse --help`. */
  summary: string;
  /** The full text for `gatehouse <command> --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit code. Long-running commands resolve on exit. */
  main(argv: string[]): Promise<number>;
}
