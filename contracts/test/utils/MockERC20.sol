// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @notice Uncapped ERC-20 + permit for tests, with an optional hook that calls back into a
///         target (as `from`'s transfer is processed) to exercise the reentrancy guard.
contract MockERC20 is ERC20, ERC20Permit {
    address public hookTarget;
    bytes public hookData;

    constructor() ERC20("Mock", "MOCK") ERC20Permit("Mock") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setHook(address target, bytes calldata data) external {
        hookTarget = target;
        hookData = data;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address target = hookTarget;
        if (target != address(0)) {
            hookTarget = address(0); // once
            (bool ok, bytes memory ret) = target.call(hookData);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
    }
}
