#!/usr/bin/env node
// The catch-up benchmark's chain and its floor, against an anvil at RPC (env):
//   node bench/catchup/chain.js generate   deploys BenchToken (compiled here with the pinned
//       solc-js) and fills the chain: TRANSFERS Transfer logs in batches of PER_TX, one batch
//       transaction every BLOCKS / batches blocks (anvil_mine's empty blocks between), PAID of
//       them to watched addresses, until the head is at least BLOCKS. Prints JSON
//       {token, head, transfers, paid}.
//   node bench/catchup/chain.js floor      the floor: plain eth_getLogs calls for TOKEN's
//       Transfer logs over 0..=HEAD in ranges of BLOCK_RANGE, one after the other, as payd's
//       watcher walks them. Prints JSON {seconds, calls, logs}.
// Addresses and amounts follow the rule bench/catchup/run.sh inserts payments by: watched
// payment i (1..WATCHED) has deposit address 0x1 + i in 39 decimal digits (digits only, so its
// EIP-55 form is itself) and is due 1000000 + i smallest units; the paid ones are every
// (WATCHED / PAID)-th. Other recipients are 0x2 + j in 39 digits.
"use strict";
const fs = require("fs");
const path = require("path");

const env = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not ${v}`);
  return n;
};
const rpcUrl = process.env.RPC;
if (!rpcUrl) throw new Error("RPC is not set");
const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

let rpcId = 0;
async function rpc(method, params) {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}
const hex = (n) => "0x" + n.toString(16);
const word = (h) => h.replace(/^0x/, "").padStart(64, "0");
const watchedAddress = (i) => "0x1" + String(i).padStart(39, "0");
const otherAddress = (j) => "0x2" + String(j).padStart(39, "0");

function compile() {
  const solc = require(path.join(__dirname, "../../node_modules/solc"));
  const input = {
    language: "Solidity",
    sources: { "BenchToken.sol": { content: fs.readFileSync(path.join(__dirname, "BenchToken.sol"), "utf8") } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      outputSelection: { "*": { "*": ["evm.bytecode.object", "evm.methodIdentifiers"] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors || []).filter((e) => e.severity === "error");
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const c = out.contracts["BenchToken.sol"].BenchToken;
  return { bin: "0x" + c.evm.bytecode.object, selector: c.evm.methodIdentifiers["batch(address[],uint256[])"] };
}

async function sendAndWait(tx) {
  const hash = await rpc("eth_sendTransaction", [tx]);
  for (;;) {
    const r = await rpc("eth_getTransactionReceipt", [hash]);
    if (r) {
      if (r.status !== "0x1") throw new Error(`transaction failed: ${JSON.stringify(r)}`);
      return r;
    }
    await new Promise((ok) => setTimeout(ok, 5));
  }
}

async function generate() {
  const blocks = env("BLOCKS", 20000);
  const transfers = env("TRANSFERS", 50000);
  const paid = env("PAID", 5000);
  const watched = env("WATCHED", 100000);
  const perTx = Math.max(1, env("PER_TX", 500));
  if (paid > watched || paid > transfers) throw new Error("PAID must be at most WATCHED and TRANSFERS");
  const step = paid > 0 ? Math.floor(watched / paid) : 0;
  const { bin, selector } = compile();
  const [from] = await rpc("eth_accounts", []);
  const token = (await sendAndWait({ from, data: bin, gas: hex(3_000_000) })).contractAddress;

  // Recipient of each transfer: the PAID watched ones spread evenly among the others.
  const recipients = [];
  let k = 0;
  let other = 0;
  for (let t = 0; t < transfers; t++) {
    if (k < paid && t >= Math.floor((k * transfers) / paid)) {
      k += 1;
      const i = k * step;
      recipients.push([watchedAddress(i), 1000000 + i]);
    } else {
      other += 1;
      recipients.push([otherAddress(other), 1000000]);
    }
  }
  const batches = Math.ceil(transfers / perTx);
  // Each batch is mined in a block of its own (anvil automines), then empty blocks up to the
  // next batch's slot; at least 64 blocks follow the last batch, so every transfer is deep.
  const gap = batches > 0 ? Math.max(1, Math.floor((blocks - 64) / batches)) : 1;
  for (let b = 0; b < batches; b++) {
    const chunk = recipients.slice(b * perTx, (b + 1) * perTx);
    const n = chunk.length;
    const data =
      "0x" +
      selector +
      word(hex(64)) +
      word(hex(64 + 32 * (1 + n))) +
      word(hex(n)) +
      chunk.map(([a]) => word(a)).join("") +
      word(hex(n)) +
      chunk.map(([, v]) => word(hex(v))).join("");
    await sendAndWait({ from, to: token, data, gas: hex(200_000 + 4_000 * n) });
    if (gap > 1) await rpc("anvil_mine", [hex(gap - 1), hex(1)]);
  }
  let head = parseInt(await rpc("eth_blockNumber", []), 16);
  if (head < blocks) await rpc("anvil_mine", [hex(blocks - head), hex(1)]);
  head = parseInt(await rpc("eth_blockNumber", []), 16);
  console.log(JSON.stringify({ token, head, transfers, paid }));
}

async function floor() {
  const token = process.env.TOKEN;
  const head = env("HEAD", 0);
  const range = Math.max(1, env("BLOCK_RANGE", 500));
  const started = process.hrtime.bigint();
  let calls = 0;
  let logs = 0;
  for (let from = 0; from <= head; from += range) {
    const to = Math.min(head, from + range - 1);
    const got = await rpc("eth_getLogs", [{ fromBlock: hex(from), toBlock: hex(to), address: token, topics: [TRANSFER_TOPIC] }]);
    calls += 1;
    logs += got.length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ seconds, calls, logs }));
}

const mode = process.argv[2];
(mode === "generate" ? generate() : mode === "floor" ? floor() : Promise.reject(new Error("usage: chain.js generate|floor")))
  .catch((e) => {
    console.error(e.message || e);
    process.exit(1);
  });
