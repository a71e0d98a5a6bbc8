// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {FakeMarket} from "./utils/FakeMarket.sol";

/// @notice Gas of the hot registry paths, recorded with vm.snapshotGasLastCall into
///         contracts/snapshots/ProviderRegistryGasTest.json (checked by `npm run snapshot:check`)
///         and bounded here so a regression fails the suite outright. Each test is its own
///         transaction, so every slot starts cold, as in a real call.
contract ProviderRegistryGasTest is RegistryFixture {
    /// @dev What a market pays the registry on a bid; the whole bid must stay <= 80k gas.
    uint256 internal constant LOCK_BUDGET = 12_000;
    uint256 internal constant UNLOCK_BUDGET = 12_000;
    uint256 internal constant STAKE_BUDGET = 60_000;
    uint256 internal constant PERMIT_STAKE_BUDGET = 110_000;
    uint256 internal constant BID_BUDGET = 40_000;

    FakeMarket internal fakeMarket;
    address internal carol;
    uint256 internal carolKey;

    /// @dev alice: 1,000 staked, registered, 10 locked, 100 unbonding. bob: funded and
    ///      approved, nothing staked. carol: funded, no allowance (for the permit path).
    function setUp() public override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        fakeMarket = new FakeMarket(registry);
        vm.startPrank(admin);
        registry.grantRole(registry.MARKET_ROLE(), address(fakeMarket));
        token.mint(carol, FUNDS);
        vm.stopPrank();
        _stake(alice, 1_100e18);
        _register(alice);
        _lock(alice, 10e18);
        vm.prank(alice);
        registry.requestUnstake(100e18);
    }

    function test_gas_stakeFirst() public {
        vm.prank(bob);
        registry.stake(100e18);
        vm.assertLe(vm.snapshotGasLastCall("stake (first)"), STAKE_BUDGET);
    }

    function test_gas_stakeMore() public {
        vm.prank(alice);
        registry.stake(100e18);
        vm.assertLe(vm.snapshotGasLastCall("stake (top-up)"), STAKE_BUDGET);
    }

    function test_gas_stakeWithPermit() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(carolKey, carol, 100e18, deadline);
        vm.prank(carol);
        registry.stakeWithPermit(100e18, deadline, v, r, s);
        vm.assertLe(vm.snapshotGasLastCall("stakeWithPermit"), PERMIT_STAKE_BUDGET);
    }

    function test_gas_lock() public {
        vm.prank(market);
        registry.lock(alice, 5e18);
        vm.assertLe(vm.snapshotGasLastCall("lock"), LOCK_BUDGET);
    }

    function test_gas_unlock() public {
        vm.prank(market);
        registry.unlock(alice, 5e18);
        vm.assertLe(vm.snapshotGasLastCall("unlock"), UNLOCK_BUDGET);
    }

    function test_gas_unlockAll() public {
        vm.prank(market);
        registry.unlock(alice, 10e18);
        vm.assertLe(vm.snapshotGasLastCall("unlock (to zero)"), UNLOCK_BUDGET);
    }

    /// @dev isRegistered + lock from a market contract, plus the market's own ledger write.
    function test_gas_marketBid() public {
        fakeMarket.bid(alice, 5e18);
        vm.assertLe(vm.snapshotGasLastCall("market bid: isRegistered + lock"), BID_BUDGET);
    }

    function test_gas_requestUnstake() public {
        vm.prank(alice);
        registry.requestUnstake(100e18);
        vm.snapshotGasLastCall("requestUnstake (add to bucket)");
    }

    function test_gas_claim() public {
        vm.warp(block.timestamp + PERIOD);
        vm.prank(alice);
        registry.claim();
        vm.snapshotGasLastCall("claim");
    }

    function test_gas_slash() public {
        vm.prank(market);
        registry.slash(alice, 5e18, recipient);
        vm.snapshotGasLastCall("slash");
    }
}
