// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// Three instances call each other, so a trace can show a revert three frames deep.
contract Nested {
    event Entered(uint256 depth);

    uint256 public visits;

    function outer(Nested middleHop, Nested innerHop) external returns (uint256) {
        visits += 1;
        emit Entered(1);
        return middleHop.middle(innerHop) + 1;
    }

    function middle(Nested innerHop) external returns (uint256) {
        emit Entered(2);
        return innerHop.inner() + 1;
    }

    function inner() external pure returns (uint256) {
        revert("too deep");
    }

    /// Like `outer`, but the revert of the last hop is caught: the transaction succeeds.
    function tolerant(Nested middleHop, Nested innerHop) external returns (bool ok) {
        visits += 1;
        emit Entered(1);
        try middleHop.middle(innerHop) returns (uint256) {
            ok = true;
        } catch {
            ok = false;
        }
    }

    /// Loops `rounds` times, writing storage, to make a long trace.
    function spin(uint256 rounds) external {
        for (uint256 i = 0; i < rounds; i++) {
            visits = i;
        }
    }
}
