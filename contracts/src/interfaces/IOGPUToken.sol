// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOGPUToken
/// @notice The oGPU token: ERC-20 with ERC-2612 permit, capped at 21,000,000 oGPU, minted by
///         accounts holding MINTER_ROLE. A real network may point the contracts at an existing
///         token instead; nothing else in the protocol depends on this contract.
/// @dev The ERC-20, ERC-2612, cap and AccessControl errors and events come from OpenZeppelin
///      (ERC20InsufficientBalance, ERC20ExceededCap, ERC2612ExpiredSignature,
///      AccessControlUnauthorizedAccount, Transfer, Approval, RoleGranted, ...).
interface IOGPUToken {
    /// @notice The admin given to the constructor is the zero address.
    /// @param admin The rejected admin address.
    error OGPUTokenInvalidAdmin(address admin);

    /// @notice Role allowed to mint: keccak256("MINTER_ROLE").
    /// @return The role identifier.
    function MINTER_ROLE() external view returns (bytes32);

    /// @notice Mints `amount` tokens to `to`. Only MINTER_ROLE; reverts with ERC20ExceededCap
    ///         past the cap. Emits Transfer(address(0), to, amount).
    /// @param to The recipient of the new tokens.
    /// @param amount The amount to mint, in wei (18 decimals).
    function mint(address to, uint256 amount) external;
}
