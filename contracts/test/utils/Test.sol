// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "./Vm.sol";

/// @notice Cheatcode access and helpers shared by tests and invariant handlers.
abstract contract CommonBase {
    /// @dev forge's cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @dev Maps `x` into [min, max] without discarding fuzz runs (like forge-std's bound).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + (x % (size + 1));
    }

    /// @dev A labelled address derived from `name`.
    function makeAddr(string memory name) internal returns (address a) {
        a = address(uint160(uint256(keccak256(abi.encodePacked(name)))));
        vm.label(a, name);
    }

    /// @dev A labelled address with its private key, derived from `name`.
    function makeAddrAndKey(string memory name) internal returns (address a, uint256 key) {
        key = uint256(keccak256(abi.encodePacked(name)));
        a = vm.addr(key);
        vm.label(a, name);
    }
}

/// @notice Minimal base for forge tests (forge-std's Test/StdInvariant, reduced to what the
///         ogpu tests use). Forge treats any contract with `test*`/`invariant*` functions as a
///         test; failures are reverts (the vm.assert* cheatcodes revert with a message).
abstract contract Test is CommonBase {
    /// @dev Selector lists for invariant targeting, read by forge through targetSelectors().
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    bool public IS_TEST = true;

    address[] private _targetedContracts;
    address[] private _targetedSenders;
    address[] private _excludedSenders;
    FuzzSelector[] private _targetedSelectors;

    function targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetedSelectors.push(selector);
    }

    function targetSender(address sender) internal {
        _targetedSenders.push(sender);
    }

    function excludeSender(address sender) internal {
        _excludedSenders.push(sender);
    }

    /// @dev Read by forge's invariant engine.
    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    /// @dev Read by forge's invariant engine.
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }

    /// @dev Read by forge's invariant engine.
    function targetSenders() public view returns (address[] memory) {
        return _targetedSenders;
    }

    /// @dev Read by forge's invariant engine.
    function excludeSenders() public view returns (address[] memory) {
        return _excludedSenders;
    }
}
