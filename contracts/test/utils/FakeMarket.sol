// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Stand-in for a market contract holding MARKET_ROLE: it keeps its own ledger of
///         what it locked per provider, and only releases or slashes from that ledger, as a
///         real market must (the registry only keeps the aggregate).
contract FakeMarket {
    /// @notice The bidder is not a registered provider.
    error FakeMarketNotRegistered(address provider);

    IProviderRegistry public immutable registry;
    mapping(address provider => uint256) public lockedBy;

    constructor(IProviderRegistry registry_) {
        registry = registry_;
    }

    /// @notice What a bid does to the registry: check registration, lock collateral.
    function bid(address provider, uint256 collateral) external {
        if (!registry.isRegistered(provider)) revert FakeMarketNotRegistered(provider);
        registry.lock(provider, collateral);
        lockedBy[provider] += collateral;
    }

    function lock(address provider, uint256 amount) external {
        registry.lock(provider, amount);
        lockedBy[provider] += amount;
    }

    function unlock(address provider, uint256 amount) external {
        lockedBy[provider] -= amount;
        registry.unlock(provider, amount);
    }

    function slash(address provider, uint256 amount, address recipient) external returns (uint256 slashed) {
        slashed = registry.slash(provider, amount, recipient);
        lockedBy[provider] -= slashed;
    }
}
