// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// Calls a target with each of the four call opcodes and reports the outcome, so a test can see
/// how a precompile answers CALL, STATICCALL, DELEGATECALL and CALLCODE from a contract.
contract PrecompileProbe {
    uint8 constant CALL = 0;
    uint8 constant STATICCALL = 1;
    uint8 constant DELEGATECALL = 2;
    uint8 constant CALLCODE = 3;

    function probe(address target, bytes calldata data, uint8 kind)
        external
        payable
        returns (bool ok, bytes memory output)
    {
        if (kind == CALL) {
            (ok, output) = target.call{value: msg.value}(data);
        } else if (kind == STATICCALL) {
            (ok, output) = target.staticcall(data);
        } else if (kind == DELEGATECALL) {
            (ok, output) = target.delegatecall(data);
        } else {
            bytes memory input = data;
            uint256 value = msg.value;
            assembly {
                ok := callcode(gas(), target, value, add(input, 32), mload(input), 0, 0)
                output := mload(0x40)
                mstore(output, returndatasize())
                returndatacopy(add(output, 32), 0, returndatasize())
                mstore(0x40, add(add(output, 32), returndatasize()))
            }
        }
    }

    /// Call with a gas limit, so a test can run a precompile out of gas inside a contract.
    function probeWithGas(address target, bytes calldata data, uint256 gasLimit)
        external
        returns (bool ok, bytes memory output)
    {
        (ok, output) = target.call{gas: gasLimit}(data);
    }
}
