/** The message of the error `action` throws; fails the test when it throws none. */
export function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}
