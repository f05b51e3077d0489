// The Hardhat node of bench/compare.py, with the parameters every node there gets: chain id
// 1337, the development mnemonic's accounts, a block gas limit of 1e9, and automine, or a block
// every BENCH_BLOCK_TIME_MS milliseconds when that is set.
const blockTimeMs = Number(process.env.BENCH_BLOCK_TIME_MS || "0");

module.exports = {
  networks: {
    hardhat: {
      chainId: 1337,
      blockGasLimit: 1_000_000_000,
      accounts: {
        mnemonic: "test test test test test test test test test test test junk",
        count: Number(process.env.BENCH_ACCOUNTS || "110"),
      },
      mining: blockTimeMs > 0 ? { auto: false, interval: blockTimeMs } : { auto: true },
    },
  },
};
