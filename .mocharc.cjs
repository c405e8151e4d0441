// Mocha configuration (CommonJS so it can read the environment).
// - spec: every compiled test, unless test files are named on the command line: then only those run
//   (mocha would otherwise ADD them to this spec and run the whole suite, Mininet tests included).
// - Under CI (CI=true): .only and skipped tests fail the run (--forbid-only, --forbid-pending), so a
//   missing prerequisite (Open vSwitch, Mininet, iperf3, tcpdump, tshark) cannot pass as a skip.
'use strict';

const ci = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const namedFiles = process.argv.slice(2).some((a) => !a.startsWith('-') && /\.js$|\*/.test(a));

module.exports = {
  ...(namedFiles ? {} : { spec: ['dist/test/**/*.test.js'] }),
  timeout: 20000,
  reporter: 'spec',
  exit: true,
  ...(ci ? { forbidOnly: true, forbidPending: true } : {}),
};
