// What the two examples share: their options, and one line for a failure (no stack trace).
import { BrevoError } from "@getbrevo/brevo";
import { parseArgs } from "node:util";

export const DEFAULTS = {
  "base-url": "http://127.0.0.1:8080/v3", // `make run`
  "api-key": "xkeysib-loyalty-mock-local-key",
  "program-id": "27d1dd7a-af67-4020-ba65-19d60000a26e", // fixtures/widget-member.yaml
};

// The options, each `--name VALUE` with its default; --help prints them, a wrong one says so in a line.
export function options(defaults, usage) {
  const spec = { help: { type: "boolean", default: false } };
  for (const [name, value] of Object.entries(defaults)) spec[name] = { type: "string", default: value };
  let parsed;
  try {
    parsed = parseArgs({ options: spec }).values;
  } catch (error) {
    console.error(`${error.message}\nusage: ${usage}`);
    process.exit(2);
  }
  if (parsed.help) {
    console.log(`usage: ${usage}\n${Object.entries(defaults).map(([name, value]) => `  --${name} (default ${value})`).join("\n")}`);
    process.exit(0);
  }
  return parsed;
}

// One line on stderr, then exit 1: Brevo's error as the client raised it, or why no answer came.
export function report(error, baseUrl) {
  if (error instanceof BrevoError && error.statusCode !== undefined) {
    console.error(`${error.constructor.name}: HTTP ${error.statusCode} ${JSON.stringify(error.body)}`);
  } else if (error instanceof BrevoError || error instanceof TypeError) {
    // fetch failed: nothing listens there (the client wraps it in a BrevoError without a status)
    console.error(`cannot reach ${baseUrl}: ${error.message}; is the mock running (make run)? or pass --base-url`);
  } else {
    console.error(String(error && error.message ? error.message : error));
  }
  // Exit now: a request still pending (the others of a parallel read) would hold the process up to the
  // client's timeout.
  process.exit(1);
}
