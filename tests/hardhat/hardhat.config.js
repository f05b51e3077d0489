// The Hardhat 2 project of tests/clients/test_hardhat.py: its mocha tests run against an
// `openledger dev` node the pytest test starts (`npx hardhat test --network openledger`).
//
// Nothing is fetched at run time: Solidity is compiled by the solc-js of package.json (Hardhat
// would otherwise download a compiler), and the test runs Hardhat with CI=true, which turns off
// its analytics, prompts and banners.
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");
require("@nomicfoundation/hardhat-ethers");

const SOLC_VERSION = require("solc/package.json").version;

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async ({ solcVersion }) => {
  if (solcVersion !== SOLC_VERSION) {
    throw new Error(`only solc ${SOLC_VERSION} (package.json) is installed; ${solcVersion} was asked for`);
  }
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: require("solc").version(),
  };
});

const out = process.env.HARDHAT_OUT_DIR || `${__dirname}/build`;

module.exports = {
  solidity: {
    version: SOLC_VERSION,
    settings: { evmVersion: "prague", optimizer: { enabled: true, runs: 200 } },
  },
  networks: {
    // The dev node's accounts are unlocked, so Hardhat's default "remote" accounts sign with
    // eth_sendTransaction, as against `hardhat node` or `anvil`.
    openledger: { url: process.env.OPENLEDGER_RPC_URL || "http://127.0.0.1:8545", chainId: 1337 },
  },
  paths: { artifacts: `${out}/artifacts`, cache: `${out}/cache` },
  mocha: { timeout: 60_000 },
};
