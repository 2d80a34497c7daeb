/**
 * An error the emulated service answers with. The AWS JSON 1.1 protocol carries the exception
 * name in the body's `__type` and the `x-amzn-ErrorType` header; the SDK turns it into an error
 * whose `.name` is `type`, so tests and adapters see exactly what real AWS would produce.
 * Messages must never include plaintext or key material: they travel to clients and into logs.
 */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = type;
  }
}
