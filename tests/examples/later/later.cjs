// Preloaded by `node --require`: moves the wall clock to BREVO_TEST_NOW (epoch seconds) for Date.
// tests/examples runs the Node example under it: its output must not depend on the date it is run.
"use strict";
const offset = Number(process.env.BREVO_TEST_NOW) * 1000 - Date.now();
const RealDate = Date;
class LaterDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offset;
  }
}
globalThis.Date = LaterDate;
