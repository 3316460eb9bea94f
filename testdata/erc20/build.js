#!/usr/bin/env node
// Rebuilds TestToken.bin (creation bytecode, hex without 0x) from TestToken.sol with the
// pinned solc-js from package.json: `npm ci && node testdata/erc20/build.js`. Offline: solc-js
// carries its compiler. `--check` exits non-zero when the committed file is stale.
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const dir = __dirname;
const source = fs.readFileSync(path.join(dir, "TestToken.sol"), "utf8");
const input = {
  language: "Solidity",
  sources: { "TestToken.sol": { content: source } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["evm.bytecode.object"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const bin = out.contracts["TestToken.sol"].TestToken.evm.bytecode.object + "\n";
const target = path.join(dir, "TestToken.bin");
if (process.argv.includes("--check")) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : "";
  if (current !== bin) {
    console.error("testdata/erc20/TestToken.bin is stale: run node testdata/erc20/build.js");
    process.exit(1);
  }
  console.log("TestToken.bin is up to date (solc " + solc.version() + ")");
} else {
  fs.writeFileSync(target, bin);
  console.log("wrote " + target + " (solc " + solc.version() + ")");
}
