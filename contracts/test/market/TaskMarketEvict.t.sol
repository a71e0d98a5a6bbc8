// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "../utils/MarketFixture.sol";
import {ITaskMarket} from "../../src/interfaces/ITaskMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Bids cannot be crowded out (issue 12, attack 1): at the cap a lower bid evicts the
///         highest, a bid not below it is refused, and no task is assigned before its minimum
///         open time, even with the cap reached at once. Default task: maxBids 4, council 2,
///         max price 100; minOpenTime 5 minutes here.
contract TaskMarketEvictTest is MarketFixture {
    uint32 internal constant OPEN = 5 minutes;

    function setUp() public override {
        _deploy(12);
        ITaskMarket.Config memory c = _defaultConfig();
        c.minOpenTime = OPEN;
        c.minBiddingWindow = OPEN;
        vm.prank(admin);
        market.setConfig(c);
    }

    function _full(uint256 id, uint256[4] memory prices) internal {
        for (uint256 i; i < 4; ++i) {
            _bid(id, providers[i], prices[i]);
        }
    }

    // ================================================================== eviction

    function test_lowerBidAtCapEvictsTheHighest() public {
        uint256 id = _submit();
        _full(id, [uint256(60e18), 90e18, 40e18, 70e18]);
        address highest = providers[1];
        address newcomer = providers[4];
        vm.expectEmit(address(market));
        emit ITaskMarket.BidEvicted(id, highest, 1, 90e18);
        vm.expectEmit(address(market));
        emit ITaskMarket.BidPlaced(id, newcomer, 1, 50e18);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralUnlocked(highest, address(market), COLLATERAL, 0);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralLocked(newcomer, address(market), COLLATERAL, COLLATERAL);
        _bid(id, newcomer, 50e18);
        (, uint8 bestIndex,) = market.bestBid(id);
        vm.assertEq(bestIndex, 2, "the lowest (40) stays the best");

        vm.assertEq(market.bidCount(id), 4);
        ITaskMarket.Bid memory b = market.getBid(id, 1);
        vm.assertEq(b.provider, newcomer);
        vm.assertEq(b.price, 50e18);
        vm.assertEq(market.lockedFor(id, highest), 0, "the evicted bid holds nothing");
        vm.assertEq(_locked(highest), 0, "its collateral is free");
        vm.assertEq(market.lockedFor(id, newcomer), COLLATERAL);
        // the next highest (70, index 3) goes next
        vm.expectEmit(address(market));
        emit ITaskMarket.BidEvicted(id, providers[3], 3, 70e18);
        _bid(id, providers[5], 10e18);
        (bool found, uint8 index, ITaskMarket.Bid memory best) = market.bestBid(id);
        vm.assertTrue(found);
        vm.assertEq(index, 3);
        vm.assertEq(best.provider, providers[5]);
    }

    function test_bidNotBelowTheHighestIsRefusedWithThePrices() public {
        uint256 id = _submit();
        _full(id, [uint256(60e18), 90e18, 40e18, 70e18]);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketBidNotBelowHighest.selector, id, 90e18, 90e18));
        _bid(id, providers[4], 90e18);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketBidNotBelowHighest.selector, id, 95e18, 90e18));
        _bid(id, providers[4], 95e18);
        // above maxPrice is refused first, by its own error
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketBidTooHigh.selector, id, MAX_PRICE + 1, MAX_PRICE));
        _bid(id, providers[4], MAX_PRICE + 1);
    }

    /// @notice The attack of issue 12: Sybils fill every slot at the max price at once; honest
    ///         bids evict them one by one, and nobody can assign before the open time is over.
    function test_sybilsAtMaxPriceCannotCrowdOutOrAssignAtOnce() public {
        uint256 id = _submit();
        for (uint256 i; i < 4; ++i) {
            _bid(id, providers[i], MAX_PRICE);
        }
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketOpenTimeNotOver.selector, id, uint64(START + OPEN)));
        vm.prank(providers[0]);
        market.assign(id);
        for (uint256 i = 4; i < 7; ++i) {
            _bid(id, providers[i], 1e18 + i);
        }
        vm.warp(START + OPEN);
        market.assign(id);
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(t.executor, providers[4], "the lowest honest bid executes");
        vm.assertEq(t.price, 1e18 + 4);
        address[] memory council = market.councilOf(id);
        uint256 sybils;
        for (uint256 s; s < council.length; ++s) {
            for (uint256 i; i < 4; ++i) {
                if (council[s] == providers[i]) ++sybils;
            }
        }
        vm.assertLe(sybils, 1, "at most the one Sybil left sits on the council");
    }

    function test_evictedBestOfEqualBidsIsReplacedByTheLowerBid() public {
        uint256 id = _submit();
        _full(id, [uint256(50e18), 50e18, 50e18, 50e18]);
        // all equal: the highest is the lowest index, which is also the best bid
        vm.expectEmit(address(market));
        emit ITaskMarket.BidEvicted(id, providers[0], 0, 50e18);
        vm.expectEmit(address(market));
        emit ITaskMarket.BidPlaced(id, providers[4], 0, 49e18);
        _bid(id, providers[4], 49e18);
        (, uint8 index, ITaskMarket.Bid memory best) = market.bestBid(id);
        vm.assertEq(index, 0);
        vm.assertEq(best.provider, providers[4]);
        vm.expectEmit(address(market));
        emit ITaskMarket.BidEvicted(id, providers[1], 1, 50e18);
        _bid(id, providers[5], 49e18); // a tie with the best: the earlier stays best
        (, index,) = market.bestBid(id);
        vm.assertEq(index, 0);
    }

    function test_evictedProviderMayBidAgain() public {
        uint256 id = _submit();
        _full(id, [uint256(60e18), 90e18, 40e18, 70e18]);
        _bid(id, providers[4], 50e18); // evicts providers[1]
        vm.expectEmit(address(market));
        emit ITaskMarket.BidEvicted(id, providers[3], 3, 70e18);
        _bid(id, providers[1], 45e18);
        vm.assertEq(market.lockedFor(id, providers[1]), COLLATERAL);
        vm.assertEq(_locked(providers[1]), COLLATERAL);
        vm.assertEq(market.lockedFor(id, providers[3]), 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketAlreadyBid.selector, id, providers[1]));
        _bid(id, providers[1], 1);
    }

    // ================================================================== minimum open time

    function test_assign_waitsForTheOpenTimeEvenAtTheCap() public {
        uint256 id = _submit();
        _full(id, [uint256(60e18), 90e18, 40e18, 70e18]);
        vm.assertEq(_task(id).assignableAt, START + OPEN);
        vm.warp(START + OPEN - 1);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketOpenTimeNotOver.selector, id, uint64(START + OPEN)));
        market.assign(id);
        vm.warp(START + OPEN);
        market.assign(id);
        vm.assertEq(_task(id).executor, providers[2]);
    }

    function test_assign_afterTheWindowTheOpenTimeIsOver() public {
        uint256 id = _submit();
        _bid(id, providers[0], 60e18);
        _bid(id, providers[1], 50e18);
        vm.warp(START + BIDDING);
        market.assign(id); // BIDDING (1 h) > OPEN
        vm.assertEq(_task(id).executor, providers[1]);
    }

    function test_openTimeIsCopiedAtSubmit() public {
        uint256 id = _submit();
        ITaskMarket.Config memory c = _defaultConfig();
        c.minOpenTime = 0;
        vm.prank(admin);
        market.setConfig(c);
        _full(id, [uint256(60e18), 90e18, 40e18, 70e18]);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketOpenTimeNotOver.selector, id, uint64(START + OPEN)));
        market.assign(id);
        uint256 later = _submit();
        vm.assertEq(_task(later).assignableAt, START);
    }

    // ================================================================== fuzz

    struct Model {
        address[8] provider;
        uint256[8] price;
        uint256 n;
        uint256 bestIndex;
    }

    /// @notice Fuzzed prices (a small range, so ties happen) and bidders, caps 2..8, with
    ///         evictions: after every bid the market holds exactly the bids the rule says
    ///         (the highest evicted, ties to the lowest index, only a strictly lower bid gets in
    ///         at the cap), every held bid locks its collateral and every evicted one is
    ///         released; no bid above maxPrice is held; and the assigned executor is the lowest
    ///         bid (ties to the one that was best first).
    function testFuzz_evictionKeepsTheLowestAndReleasesTheRest(uint256 seed, uint8 cap, uint8 count) public {
        ITaskMarket.TaskParams memory params = _params();
        params.maxBids = uint8(bound(cap, 2, 8));
        params.councilSize = 1;
        uint256 id = _submit(params);
        uint256 bids = bound(count, 2, 24);
        Model memory model;
        for (uint256 k; k < bids; ++k) {
            _fuzzBid(id, params.maxBids, model, uint256(keccak256(abi.encode(seed, k))));
        }
        if (model.n < 2) return;
        vm.warp(START + BIDDING);
        market.assign(id);
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(t.executor, model.provider[model.bestIndex]);
        for (uint256 i; i < model.n; ++i) {
            vm.assertLe(t.price, model.price[i], "the executor is the lowest bid");
        }
    }

    function _fuzzBid(uint256 id, uint256 m, Model memory model, uint256 r) internal {
        uint256 price = (r % 8) * 10e18 + (r % 3 == 0 ? 1 : 0); // 0..70 oGPU (+1 wei)
        if (r % 11 == 0) price = MAX_PRICE + 1 + r % 5;
        address p = providers[(r >> 8) % providers.length];
        if (market.lockedFor(id, p) != 0) p = _outsider(id);
        vm.prank(p);
        (bool ok,) = address(market).call(abi.encodeCall(ITaskMarket.bid, (id, price)));
        bool expected = price <= MAX_PRICE && (model.n < m || price < model.price[_highest(model)]);
        vm.assertEq(ok, expected, "accepted iff at most maxPrice and (room or below the highest)");
        if (!ok) return;
        uint256 slot = model.n;
        if (model.n < m) {
            ++model.n;
        } else {
            slot = _highest(model);
            vm.assertEq(market.lockedFor(id, model.provider[slot]), 0, "evicted: released");
            vm.assertEq(_locked(model.provider[slot]), 0, "evicted: registry lock gone");
        }
        bool newBest = model.n == 1 || price < model.price[model.bestIndex] || slot == model.bestIndex;
        model.provider[slot] = p;
        model.price[slot] = price;
        if (newBest) model.bestIndex = slot;
        _checkHeld(id, model);
    }

    function _checkHeld(uint256 id, Model memory model) internal view {
        for (uint256 i; i < model.n; ++i) {
            ITaskMarket.Bid memory b = market.getBid(id, i);
            vm.assertEq(b.provider, model.provider[i]);
            vm.assertEq(b.price, model.price[i]);
            vm.assertLe(b.price, MAX_PRICE);
            vm.assertEq(market.lockedFor(id, b.provider), COLLATERAL);
        }
        (, uint8 index,) = market.bestBid(id);
        vm.assertEq(index, model.bestIndex, "best = lowest, ties to the one that was best first");
    }

    /// @dev The model's highest bid: the largest price, ties to the lowest index.
    function _highest(Model memory model) internal pure returns (uint256 h) {
        for (uint256 i = 1; i < model.n; ++i) {
            if (model.price[i] > model.price[h]) h = i;
        }
    }

    function _outsider(uint256 id) internal returns (address p) {
        for (uint256 i; i < providers.length; ++i) {
            if (market.lockedFor(id, providers[i]) == 0) return providers[i];
        }
        p = makeAddr(string.concat("extra", vm.toString(providers.length)));
        providers.push(p);
        _fundProvider(p, STAKE);
    }
}
