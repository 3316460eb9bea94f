// SPDX-License-Identifier: Apache-2.0
// The catch-up benchmark's token: one transaction emits many ERC-20 Transfer logs, so a chain
// of ~50,000 transfers is made in ~100 transactions. No balances are kept (the watcher reads
// logs only); the logs are shaped exactly as an ERC-20's. Compiled at run time by chain.js
// (solc-js from package.json); no bytecode is committed.
pragma solidity 0.8.30;

contract BenchToken {
    // payd checks a configured token's decimals at start.
    uint8 public constant decimals = 6;

    event Transfer(address indexed from, address indexed to, uint256 value);

    function batch(address[] calldata to, uint256[] calldata value) external {
        require(to.length == value.length, "lengths");
        for (uint256 i = 0; i < to.length; i++) {
            emit Transfer(msg.sender, to[i], value[i]);
        }
    }
}
