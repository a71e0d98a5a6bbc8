// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {FakeMarket} from "../utils/FakeMarket.sol";
import {RegistryHandler} from "./RegistryHandler.sol";
import {OGPUToken} from "../../src/OGPUToken.sol";
import {ProviderRegistry} from "../../src/ProviderRegistry.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Invariants of PROTOCOL.md that the registry carries: tokens are conserved,
///         locked collateral never exceeds stake, nothing is paid twice, and no stake is left
///         that nobody can withdraw. Each invariant runs its own campaign of
///         runs x depth = 50 x 200 = 10,000 handler calls (see foundry.toml).
contract ProviderRegistryInvariantTest is Test {
    OGPUToken internal token;
    ProviderRegistry internal registry;
    RegistryHandler internal handler;
    FakeMarket[2] internal markets;
    address internal admin;

    function setUp() public {
        vm.warp(1_700_000_000);
        admin = makeAddr("admin");
        token = new OGPUToken(admin);
        registry = new ProviderRegistry(token, 1 days, admin);
        markets[0] = new FakeMarket(registry);
        markets[1] = new FakeMarket(registry);
        vm.startPrank(admin);
        registry.grantRole(registry.MARKET_ROLE(), address(markets[0]));
        registry.grantRole(registry.MARKET_ROLE(), address(markets[1]));
        vm.stopPrank();

        handler = new RegistryHandler(token, registry, admin, markets);
        for (uint256 i; i < handler.actorCount(); ++i) {
            handler.mint(i, 10_000e18);
        }

        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: handler.selectors()}));
    }

    /// @notice Escrow plus balances equals supply, and the registry holds exactly its books.
    function invariant_tokensConserved() public view {
        uint256 registryBalance = token.balanceOf(address(registry));
        uint256 sum = registryBalance + token.balanceOf(handler.slashRecipient()) + token.balanceOf(admin)
            + token.balanceOf(address(markets[0])) + token.balanceOf(address(markets[1]));
        for (uint256 i; i < handler.actorCount(); ++i) {
            sum += token.balanceOf(handler.actors(i));
        }
        vm.assertEq(sum, token.totalSupply(), "sum of balances != totalSupply");
        vm.assertEq(
            registryBalance, registry.totalStaked() + registry.totalUnbonding(), "registry balance != staked + unbonding"
        );
        vm.assertEq(
            registryBalance,
            handler.ghostTotalDeposited() - handler.ghostTotalClaimed() - handler.ghostTotalSlashed(),
            "registry balance != deposits - claims - slashes"
        );
        vm.assertEq(token.balanceOf(handler.slashRecipient()), handler.ghostTotalSlashed(), "slashed tokens lost");
    }

    /// @notice Locked collateral never exceeds stake, and equals what the markets locked.
    function invariant_lockedNeverExceedsStaked() public view {
        vm.assertFalse(handler.ghostGuardBroken(), "unstaked or locked more than the free stake");
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actors(i);
            IProviderRegistry.StakeInfo memory si = registry.stakeOf(a);
            vm.assertLe(si.locked, si.staked, "locked > staked");
            vm.assertEq(si.locked, markets[0].lockedBy(a) + markets[1].lockedBy(a), "locked != markets' ledgers");
            vm.assertEq(registry.freeStakeOf(a), si.staked - si.locked, "free != staked - locked");
        }
    }

    /// @notice Every unstaked token is claimed at most once, never early, and every token an
    ///         actor put in is accounted for.
    function invariant_nothingPaidTwice() public view {
        vm.assertFalse(handler.ghostDoubleClaim(), "a bucket was claimed twice");
        vm.assertFalse(handler.ghostEarlyClaim(), "a bucket was claimed before its end");
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actors(i);
            IProviderRegistry.StakeInfo memory si = registry.stakeOf(a);
            vm.assertEq(
                handler.ghostRequested(a),
                handler.ghostClaimed(a) + handler.ghostCancelled(a) + si.unbonding,
                "requested != claimed + cancelled + unbonding"
            );
            vm.assertEq(
                si.staked + si.unbonding,
                handler.ghostDeposited(a) - handler.ghostClaimed(a) - handler.ghostSlashed(a),
                "stake != deposits - claims - slashes"
            );
            vm.assertEq(
                token.balanceOf(a),
                handler.ghostMinted(a) + handler.ghostClaimed(a) - handler.ghostDeposited(a),
                "wallet != minted - deposited + claimed"
            );
        }
    }

    /// @notice The global totals are the sums of the accounts; a bucket has an end iff it is non-empty.
    function invariant_totalsMatchAccounts() public view {
        uint256 staked;
        uint256 unbonding;
        for (uint256 i; i < handler.actorCount(); ++i) {
            IProviderRegistry.StakeInfo memory si = registry.stakeOf(handler.actors(i));
            staked += si.staked;
            unbonding += si.unbonding;
            vm.assertEq(si.unbonding == 0, si.unbondingEnd == 0, "bucket end out of step with its content");
        }
        vm.assertEq(registry.totalStaked(), staked, "totalStaked != sum of stakes");
        vm.assertEq(registry.totalUnbonding(), unbonding, "totalUnbonding != sum of buckets");
    }

    /// @notice After each run, everything left can still leave: the markets release their
    ///         locks, every actor unstakes and claims, and the registry ends empty.
    function afterInvariant() external {
        uint256 t = handler.currentTime();
        vm.warp(t);
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actors(i);
            for (uint256 m; m < 2; ++m) {
                uint256 l = markets[m].lockedBy(a);
                if (l != 0) markets[m].unlock(a, l);
            }
            uint256 free = registry.freeStakeOf(a);
            if (free != 0) {
                vm.prank(a);
                registry.requestUnstake(free);
            }
        }
        vm.warp(t + registry.MAX_UNBONDING_PERIOD());
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actors(i);
            if (registry.stakeOf(a).unbonding != 0) {
                vm.prank(a);
                registry.claim();
            }
        }
        vm.assertEq(token.balanceOf(address(registry)), 0, "tokens stuck in the registry");
        vm.assertEq(registry.totalStaked(), 0);
        vm.assertEq(registry.totalUnbonding(), 0);
    }
}
