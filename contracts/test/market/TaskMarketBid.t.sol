// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {MarketFixture} from "../utils/MarketFixture.sol";
import {ITaskMarket} from "../../src/interfaces/ITaskMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice bid, assign (executor choice, releases) and expire. Council seating: TaskMarketCouncil.t.sol.
contract TaskMarketBidTest is MarketFixture {
    // ================================================================== bid

    function test_bid_locksRecordsAndEmits() public {
        uint256 id = _submit();
        address p = providers[0];
        vm.expectEmit(address(market));
        emit ITaskMarket.BidPlaced(id, p, 0, 70e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralLocked(p, address(market), COLLATERAL, COLLATERAL);
        _bid(id, p, 70e18);

        vm.assertEq(market.bidCount(id), 1);
        ITaskMarket.Bid memory b = market.getBid(id, 0);
        vm.assertEq(b.provider, p);
        vm.assertEq(b.price, 70e18);
        (bool found, uint8 index, ITaskMarket.Bid memory best) = market.bestBid(id);
        vm.assertTrue(found);
        vm.assertEq(index, 0);
        vm.assertEq(best.provider, p);
        vm.assertEq(best.price, 70e18);
        vm.assertEq(market.lockedFor(id, p), COLLATERAL);
        vm.assertEq(_locked(p), COLLATERAL);
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(t.bidCount, 1);
        vm.assertEq(t.bestIndex, 0);
        vm.assertEq(t.bestPrice, 70e18);
        vm.assertEq(t.escrow, 104e18, "bids do not touch the escrow");
        vm.assertEq(market.getBid(id, 1).provider, address(0), "out of range");
    }

    function test_bid_tracksLowestEarliest() public {
        uint256 id = _submit();
        uint256[4] memory prices = [uint256(80e18), 60e18, 60e18, 90e18];
        // lower: new best; a tie: the earlier stays; higher: unchanged
        uint8[4] memory best = [0, 1, 1, 1];
        for (uint256 i; i < 4; ++i) {
            vm.expectEmit(address(market));
            emit ITaskMarket.BidPlaced(id, providers[i], uint8(i), prices[i]);
            _bid(id, providers[i], prices[i]);
            (bool found, uint8 index, ITaskMarket.Bid memory b) = market.bestBid(id);
            vm.assertTrue(found);
            vm.assertEq(index, best[i]);
            vm.assertEq(b.provider, providers[best[i]]);
            vm.assertEq(b.price, prices[best[i]]);
        }
    }

    function test_bid_acceptsMaxPriceAndZero() public {
        uint256 id = _submit();
        _bid(id, providers[0], MAX_PRICE);
        _bid(id, providers[1], 0);
        (, uint8 index,) = market.bestBid(id);
        vm.assertEq(index, 1);
    }

    function test_bid_lastSecondOfWindow() public {
        uint256 id = _submit();
        vm.warp(START + BIDDING - 1);
        _bid(id, providers[0], 50e18);
        vm.assertEq(market.bidCount(id), 1);
    }

    function test_bid_sameProviderOnSeveralTasks() public {
        uint256 a = _submit();
        uint256 b = _submit();
        _bid(a, providers[0], 50e18);
        _bid(b, providers[0], 50e18);
        vm.assertEq(_locked(providers[0]), 2 * COLLATERAL);
        vm.assertEq(market.lockedFor(a, providers[0]), COLLATERAL);
        vm.assertEq(market.lockedFor(b, providers[0]), COLLATERAL);
    }

    function test_bid_revertsOnUnknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketUnknownTask.selector, 9));
        _bid(9, providers[0], 1);
    }

    function test_bid_revertsWhenNotOpen() public {
        (uint256 id,) = _assignedTask();
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMarket.TaskMarketUnexpectedStatus.selector, id, ITaskMarket.Status.Assigned, ITaskMarket.Status.Open
            )
        );
        _bid(id, providers[5], 1);
    }

    function test_bid_revertsAfterWindow() public {
        uint256 id = _submit();
        vm.warp(START + BIDDING);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskMarket.TaskMarketBiddingClosed.selector, id, uint64(START + BIDDING))
        );
        _bid(id, providers[0], 1);
    }

    /// @notice At the cap a bid not below the highest is refused (it used to be any bid:
    ///         TaskMarketBidCapReached; a lower one now evicts, see TaskMarketEvict.t.sol).
    function test_bid_revertsAtCap() public {
        uint256 id = _submit();
        for (uint256 i; i < MAX_BIDS; ++i) {
            _bid(id, providers[i], 50e18);
        }
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketBidNotBelowHighest.selector, id, 50e18, 50e18));
        _bid(id, providers[MAX_BIDS], 50e18);
    }

    function test_bid_revertsForClient() public {
        _fundProvider(client, STAKE); // even a registered, staked client
        uint256 id = _submit();
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketClientCannotBid.selector, id, client));
        _bid(id, client, 1);
    }

    function test_bid_revertsAboveMaxPrice() public {
        uint256 id = _submit();
        vm.expectRevert(
            abi.encodeWithSelector(ITaskMarket.TaskMarketBidTooHigh.selector, id, MAX_PRICE + 1, MAX_PRICE)
        );
        _bid(id, providers[0], MAX_PRICE + 1);
    }

    function test_bid_revertsOnSecondBid() public {
        uint256 id = _submit();
        _bid(id, providers[0], 50e18);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketAlreadyBid.selector, id, providers[0]));
        _bid(id, providers[0], 40e18);
    }

    /// @notice The registry checks registration where it locks the collateral (one call per bid).
    function test_bid_revertsForUnregistered() public {
        uint256 id = _submit();
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNotRegistered.selector, stranger));
        _bid(id, stranger, 1);
        // deregistered providers too
        address p = providers[0];
        vm.prank(p);
        registry.deregister();
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.ProviderRegistryNotRegistered.selector, p));
        _bid(id, p, 1);
    }

    function test_bid_revertsWithoutFreeStake() public {
        address poor = makeAddr("poor");
        _fundProvider(poor, COLLATERAL - 1);
        uint256 id = _submit();
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryInsufficientFreeStake.selector, poor, COLLATERAL, COLLATERAL - 1
            )
        );
        _bid(id, poor, 1);
    }

    /// @notice Fuzzed prices (small range, so ties happen) and bidding orders: the best bid is
    ///         always the lowest price, ties to the earliest bid, and every bid locks collateral.
    function testFuzz_bid_bestIsLowestEarliest(uint256 seed, uint8 count) public {
        uint256 n = bound(count, 1, MAX_BIDS);
        uint256 id = _submit();
        uint256 bestPrice = type(uint256).max;
        uint256 bestIndex;
        for (uint256 i; i < n; ++i) {
            uint256 price = uint256(keccak256(abi.encode(seed, i))) % 4 * 25e18; // 0, 25, 50 or 75 oGPU
            address p = providers[(seed % providers.length + i) % providers.length];
            if (market.lockedFor(id, p) != 0) p = _freshBidder(id);
            _bid(id, p, price);
            if (price < bestPrice) {
                bestPrice = price;
                bestIndex = i;
            }
            (bool found, uint8 index, ITaskMarket.Bid memory best) = market.bestBid(id);
            vm.assertTrue(found);
            vm.assertEq(index, bestIndex);
            vm.assertEq(best.price, bestPrice);
            vm.assertEq(market.lockedFor(id, p), COLLATERAL);
        }
        vm.assertEq(market.bidCount(id), n);
    }

    function _freshBidder(uint256 id) internal returns (address p) {
        for (uint256 i; i < providers.length; ++i) {
            if (market.lockedFor(id, providers[i]) == 0) return providers[i];
        }
        p = makeAddr(string.concat("extra", vm.toString(providers.length)));
        providers.push(p);
        _fundProvider(p, STAKE);
    }

    // ================================================================== assign

    function test_assign_atCapPicksBestReleasesOthers() public {
        uint256 id = _submit();
        _bids(id, _prices4(70e18, 60e18, 80e18, 90e18)); // provider 1 is best
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskAssigned(id, providers[1], 1, 60e18, block.number);
        market.assign(id); // before the window's end: the cap is reached

        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(uint8(t.status), uint8(ITaskMarket.Status.Assigned));
        vm.assertEq(t.executor, providers[1]);
        vm.assertEq(t.price, 60e18);
        vm.assertEq(t.assignedAt, START);
        vm.assertEq(t.councilCount, 0, "the council is seated later, from the pool");
        vm.assertFalse(t.councilSeated);
        vm.assertEq(t.nextCheckpoint, 0);
        vm.assertFalse(t.voting);
        vm.assertEq(market.councilOf(id).length, 0);

        // only the executor keeps its collateral locked
        for (uint256 i; i < 4; ++i) {
            address p = providers[i];
            bool kept = p == providers[1];
            vm.assertEq(_locked(p), kept ? COLLATERAL : 0);
            vm.assertEq(market.lockedFor(id, p), kept ? COLLATERAL : 0);
            vm.assertFalse(market.verdictOf(id, 0, p).member);
        }
        vm.assertEq(market.checkpointOf(id, 0).share, 30e18);
    }

    function _prices4(uint256 a, uint256 b, uint256 c, uint256 d) internal pure returns (uint256[] memory p) {
        p = new uint256[](4);
        (p[0], p[1], p[2], p[3]) = (a, b, c, d);
    }

    function test_assign_afterWindowWithFewerBids() public {
        uint256 id = _submit();
        _bid(id, providers[0], 70e18);
        _bid(id, providers[1], 60e18);
        _bid(id, providers[2], 65e18);
        vm.warp(START + BIDDING);
        market.assign(id);
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(t.executor, providers[1]);
        vm.assertEq(t.assignedAt, START + BIDDING);
    }

    /// @notice Councils come from the pool, not from the bidders: one bid is enough.
    function test_assign_oneBidIsEnough() public {
        uint256 id = _submit();
        _bid(id, providers[0], 70e18);
        vm.warp(START + BIDDING);
        market.assign(id);
        vm.assertEq(_task(id).executor, providers[0]);
        address[] memory council = _seat(id);
        vm.assertEq(council.length, COUNCIL);
        for (uint256 s; s < council.length; ++s) {
            vm.assertNotEq(council[s], providers[0]);
        }
    }

    function test_assign_anyoneCanCall() public {
        uint256 id = _openTaskWithBids(4, true);
        vm.prank(stranger);
        market.assign(id);
        vm.assertEq(_task(id).executor, providers[0]);
    }

    function test_assign_firstDeadlineCappedByHardDeadline() public {
        ITaskMarket.TaskParams memory p = _params();
        p.softDeadline = 10 minutes;
        p.hardDeadline = 30 minutes; // < checkpointWindow
        (uint256 id,) = _assignedTask(p);
        vm.assertEq(_task(id).deadline, START + 30 minutes);
    }

    function test_assign_revertsBeforeHaltingCondition() public {
        uint256 id = _submit();
        _bid(id, providers[0], 70e18);
        _bid(id, providers[1], 60e18);
        vm.warp(START + BIDDING - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMarket.TaskMarketBiddingNotOver.selector, id, uint64(START + BIDDING), uint8(2), MAX_BIDS
            )
        );
        market.assign(id);
    }

    function test_assign_revertsWithoutBids() public {
        uint256 id = _submit();
        vm.warp(START + BIDDING);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNotEnoughBids.selector, id, uint8(0)));
        market.assign(id);
    }

    function test_assign_revertsWhenNotOpen() public {
        (uint256 id,) = _assignedTask();
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMarket.TaskMarketUnexpectedStatus.selector, id, ITaskMarket.Status.Assigned, ITaskMarket.Status.Open
            )
        );
        market.assign(id);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketUnknownTask.selector, 99));
        market.assign(99);
    }

    // ================================================================== expire

    function test_expire_noBids() public {
        uint256 id = _submit();
        vm.warp(START + BIDDING);
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskExpired(id, 0, 104e18);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(market), client, 104e18);
        vm.prank(stranger); // anyone
        market.expire(id);
        vm.assertEq(uint8(_task(id).status), uint8(ITaskMarket.Status.Expired));
        vm.assertEq(_task(id).escrow, 0);
        vm.assertEq(token.balanceOf(client), FUNDS);
        vm.assertEq(token.balanceOf(address(market)), 0);
    }

    function test_expire_revertsBeforeWindowEnd() public {
        uint256 id = _submit();
        vm.warp(START + BIDDING - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMarket.TaskMarketBiddingNotOver.selector, id, uint64(START + BIDDING), uint8(0), MAX_BIDS
            )
        );
        market.expire(id);
    }

    /// @notice A lone bid is assignable now (councils come from the pool): the task does not expire.
    function test_expire_revertsWhenAssignable() public {
        uint256 id = _submit();
        _bid(id, providers[0], 50e18);
        vm.warp(START + BIDDING);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketHasBids.selector, id, uint8(1)));
        market.expire(id);
    }

    function test_expire_revertsWhenNotOpen() public {
        uint256 id = _submit();
        vm.prank(client);
        market.cancel(id);
        vm.warp(START + BIDDING);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMarket.TaskMarketUnexpectedStatus.selector, id, ITaskMarket.Status.Cancelled, ITaskMarket.Status.Open
            )
        );
        market.expire(id);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketUnknownTask.selector, 77));
        market.expire(77);
    }
}
