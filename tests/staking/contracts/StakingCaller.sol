// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "IStaking.sol";

/// Calls the staking precompile the ways a contract can: typed calls through IStaking, and
/// low-level STATICCALL, DELEGATECALL and a CALL whose effects the caller then reverts.
contract StakingCaller {
    IStaking constant STAKING = IStaking(STAKING_PRECOMPILE);

    /// A typed call of a method that returns nothing (needs code at the precompile's address).
    function delegateTo(address validator) external payable {
        STAKING.delegate{value: msg.value}(validator);
    }

    /// A typed view call.
    function stakeOf(address validator) external view returns (uint256 stake) {
        (, stake,,,,,,) = STAKING.getValidator(validator);
    }

    function staticCall(bytes calldata data) external view returns (bool ok, bytes memory output) {
        (ok, output) = STAKING_PRECOMPILE.staticcall(data);
    }

    function delegateCall(bytes calldata data) external returns (bool ok, bytes memory output) {
        (ok, output) = STAKING_PRECOMPILE.delegatecall(data);
    }

    /// Delegates through the precompile, then reverts: the delegation must not survive.
    function delegateThenRevert(address validator) external payable {
        STAKING.delegate{value: msg.value}(validator);
        revert("changed my mind");
    }
}
