// What a Hardhat user's test does against `openledger dev`: deploy a token, act as an account
// nobody holds the key of (a whale, a contract owner), fund it, snapshot and revert.
const assert = require("node:assert/strict");
const { ethers, network } = require("hardhat");

const ETHER = 10n ** 18n;

async function request(method, params = []) {
  return network.provider.request({ method, params });
}

async function deployToken(supply) {
  const Token = await ethers.getContractFactory("Token");
  const token = await Token.deploy("Whale", "WHL", supply);
  await token.waitForDeployment();
  return token;
}

describe("impersonation on openledger dev", function () {
  let bob, token;

  before(async function () {
    assert.equal(network.name, "openledger");
    assert.equal((await ethers.provider.getNetwork()).chainId, 1337n);
    [, bob] = await ethers.getSigners();
    token = await deployToken(1_000_000n);
  });

  it("moves the tokens of an account it has no key for", async function () {
    const whale = ethers.Wallet.createRandom().address; // nobody holds its key, the node neither
    await (await token.transfer(whale, 5_000n)).wait();
    await request("hardhat_setBalance", [whale, ethers.toQuantity(ETHER)]);
    assert.equal(await ethers.provider.getBalance(whale), ETHER);

    await assert.rejects(
      request("eth_sendTransaction", [{ from: whale, to: bob.address }]),
      /no key/,
      "the node refuses to send for an account it was not told to impersonate",
    );

    assert.equal(await request("hardhat_impersonateAccount", [whale]), true);
    const signer = await ethers.getSigner(whale);
    const receipt = await (await token.connect(signer).transfer(bob.address, 1_200n)).wait();
    assert.equal(receipt.status, 1);
    assert.equal(receipt.from, whale);
    assert.equal(await token.balanceOf(whale), 3_800n);
    assert.equal(await token.balanceOf(bob.address), 1_200n);
    assert.equal(await ethers.provider.getTransactionCount(whale), 1);

    assert.equal(await request("hardhat_stopImpersonatingAccount", [whale]), true);
    await assert.rejects(token.connect(signer).transfer(bob.address, 1n), /no key/);
    assert.equal(await token.balanceOf(whale), 3_800n);
  });

  it("getImpersonatedSigner acts as a contract and pays gas from a set balance", async function () {
    const owner = await token.getAddress(); // a contract: EIP-3607 does not stop impersonation
    await (await token.transfer(owner, 700n)).wait();
    await request("hardhat_setBalance", [owner, ethers.toQuantity(2n * ETHER)]);
    const signer = await ethers.getImpersonatedSigner(owner);
    const receipt = await (await token.connect(signer).transfer(bob.address, 300n)).wait();
    assert.equal(receipt.from, owner);
    assert.equal(await token.balanceOf(owner), 400n);
    const fee = receipt.gasUsed * receipt.gasPrice;
    assert.equal(await ethers.provider.getBalance(owner), 2n * ETHER - fee);
  });

  it("evm_snapshot and evm_revert undo a transfer; evm_mine mines an empty block", async function () {
    const before = await token.balanceOf(bob.address);
    const height = await ethers.provider.getBlockNumber();
    const snapshot = await request("evm_snapshot");

    await (await token.transfer(bob.address, 42n)).wait();
    assert.equal(await token.balanceOf(bob.address), before + 42n);

    assert.equal(await request("evm_revert", [snapshot]), true);
    assert.equal(await token.balanceOf(bob.address), before);
    assert.equal(await ethers.provider.getBlockNumber(), height);
    assert.equal(await request("evm_revert", [snapshot]), false, "a snapshot is used up once reverted to");

    await request("evm_mine");
    const block = await ethers.provider.getBlock("latest");
    assert.equal(block.number, height + 1);
    assert.equal(block.transactions.length, 0);
  });
});
