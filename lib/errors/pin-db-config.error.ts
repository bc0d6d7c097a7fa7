/** Bad PinDbModule options, thrown at bootstrap. The message names the set and field and how to fix it. */
export class PinDbConfigError extends Error {
  override readonly name = 'PinDbConfigError';
}
