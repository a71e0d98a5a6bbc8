// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

import {IOGPUToken} from "./interfaces/IOGPUToken.sol";

/// @title OGPUToken
/// @notice "OpenGPU" (oGPU): ERC-20 with ERC-2612 permit, capped at 21,000,000 oGPU.
///         Accounts with MINTER_ROLE mint; DEFAULT_ADMIN_ROLE manages the roles.
contract OGPUToken is IOGPUToken, ERC20, ERC20Permit, ERC20Capped, AccessControl {
    /// @inheritdoc IOGPUToken
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice The supply cap: 21,000,000 oGPU (18 decimals).
    uint256 public constant MAX_SUPPLY = 21_000_000e18;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and MINTER_ROLE.
    constructor(address admin) ERC20("OpenGPU", "oGPU") ERC20Permit("OpenGPU") ERC20Capped(MAX_SUPPLY) {
        if (admin == address(0)) revert OGPUTokenInvalidAdmin(admin);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @inheritdoc IOGPUToken
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @dev ERC20Capped checks the cap on mint.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        super._update(from, to, value);
    }
}
