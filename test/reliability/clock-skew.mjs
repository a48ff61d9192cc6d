// Preloaded into a server process (NODE_OPTIONS=--import …) to run it with its clock CLOCK_SKEW_MS ahead.
const skew = Number(process.env.CLOCK_SKEW_MS ?? 0);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    super(...(args.length === 0 ? [RealDate.now() + skew] : args));
  }
  static now() {
    return RealDate.now() + skew;
  }
}
globalThis.Date = SkewedDate;
