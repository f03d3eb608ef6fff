/** The message of what `run` throws, or undefined when it returns: for asserting a refusal's exact wording. */
export function messageOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}
