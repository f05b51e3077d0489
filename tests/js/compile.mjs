// Compile Solidity sources with solc-js and print {ContractName: {abi, bytecode, deployedBytecode}}.
//
//   node compile.mjs path/to/A.sol [path/to/B.sol ...] [--include DIR]
//
// Imports are resolved relative to each --include directory (the repository's Solidity
// interfaces live in attribution/solidity/). The EVM target is Prague, the fork the node runs.
import fs from "node:fs";
import path from "node:path";
import solc from "solc";

const args = process.argv.slice(2);
const includes = [];
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--include") includes.push(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: node compile.mjs FILE.sol [FILE.sol ...] [--include DIR]");
  process.exit(2);
}

const sources = {};
for (const file of files) sources[path.basename(file)] = { content: fs.readFileSync(file, "utf8") };

function findImports(importPath) {
  for (const dir of [...includes, ...files.map((f) => path.dirname(f))]) {
    const candidate = path.join(dir, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `file not found: ${importPath}` };
}

const input = {
  language: "Solidity",
  sources,
  settings: {
    evmVersion: "prague",
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const result = {};
for (const unit of Object.values(output.contracts)) {
  for (const [name, contract] of Object.entries(unit)) {
    result[name] = {
      abi: contract.abi,
      bytecode: "0x" + contract.evm.bytecode.object,
      deployedBytecode: "0x" + contract.evm.deployedBytecode.object,
    };
  }
}
process.stdout.write(JSON.stringify(result));
