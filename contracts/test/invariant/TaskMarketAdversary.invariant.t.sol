// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "../utils/MarketFixture.sol";
import {AdversaryTaskHandler} from "./AdversaryTaskHandler.sol";
import {ITaskMarket} from "../../src/interfaces/ITaskMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Issue 12's invariants for the batch market under attack (AdversaryTaskHandler: three
///         Sybils with 3/8 of the stake who fill every bid slot at the max price and race
///         assign, collude on councils and commit garbage; four honest providers; one lazy
///         voter): conservation of oGPU; locked <= staked; no honest provider slashed unless
///         the council that judged it was captured (honest seats not a strict majority);
///         garbage judged by an honest majority rejected and its executor slashed; lazy voters
///         slashed; bids cannot be crowded out; nothing paid twice. Each invariant runs its own
///         campaign of 50 x 200 = 10,000 handler calls (foundry.toml), fail_on_revert on.
contract TaskMarketAdversaryInvariantTest is MarketFixture {
    event log_named_uint(string key, uint256 val);

    AdversaryTaskHandler internal handler;

    function setUp() public override {
        _deploy(8);
        ITaskMarket.Config memory cfg = _defaultConfig();
        cfg.minBiddingWindow = 60;
        cfg.minCheckpointWindow = 60;
        cfg.minVerdictWindow = 60;
        cfg.minOpenTime = 60;
        vm.prank(admin);
        market.setConfig(cfg);
        // (the fixture put every provider in the model's council pool)
        handler = new AdversaryTaskHandler(market, registry, token, admin, client, providers, MODEL_HASH);
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: handler.selectors()}));
    }

    /// @notice Every token is somewhere (supply = balances), the market holds exactly the open
    ///         escrows (= escrowed - paid out), the registry exactly its stake; locked <= staked
    ///         for everyone and the registry's locks equal the market's ledger.
    function invariant_conservedAndLocked() public view {
        uint256 marketBalance = token.balanceOf(address(market));
        uint256 registryBalance = token.balanceOf(address(registry));
        uint256 sum = marketBalance + registryBalance + token.balanceOf(admin) + token.balanceOf(client)
            + token.balanceOf(stranger) + token.balanceOf(address(handler));
        for (uint256 i; i < providers.length; ++i) {
            sum += token.balanceOf(providers[i]);
        }
        vm.assertEq(sum, token.totalSupply(), "sum of balances != totalSupply");
        uint256 escrows;
        uint256 ghostHeld;
        for (uint256 i; i < handler.taskCount(); ++i) {
            uint256 id = handler.tasks(i);
            escrows += market.getTask(id).escrow;
            ghostHeld += handler.ghostEscrowed(id) - handler.ghostPaidOut(id);
        }
        vm.assertEq(marketBalance, escrows, "market balance != sum of escrows");
        vm.assertEq(marketBalance, ghostHeld, "market balance != escrowed - paid out");
        vm.assertEq(registryBalance, registry.totalStaked() + registry.totalUnbonding(), "registry books");

        uint256[] memory ledger = new uint256[](providers.length);
        for (uint256 i; i < handler.taskCount(); ++i) {
            uint256 id = handler.tasks(i);
            // bidders and council members drawn from the pool (who need not have bid)
            for (uint256 j; j < providers.length; ++j) {
                ledger[j] += market.lockedFor(id, providers[j]);
            }
        }
        for (uint256 j; j < providers.length; ++j) {
            IProviderRegistry.StakeInfo memory si = registry.stakeOf(providers[j]);
            vm.assertLe(si.locked, si.staked, "locked > staked");
            vm.assertEq(si.locked, ledger[j], "registry lock != market ledger");
        }
    }

    /// @notice No honest provider ever loses stake except to a council it did not hold a strict
    ///         majority of: its stake is what it put in minus what captured councils took.
    ///         And every rule the handler checks on each verdict held: garbage judged by an
    ///         honest majority rejected with the executor's whole collateral slashed, garbage
    ///         accepted only by a Sybil majority, every non-revealer (the lazy voter) slashed
    ///         its non-reveal slash and nobody else anything, the executor never seated, no
    ///         assignment before the minimum open time, no executor dearer than an honest bid.
    function invariant_noHonestSlashedUnlessCaptured() public view {
        vm.assertFalse(handler.ghostBroken(), handler.broken());
        for (uint256 i; i < providers.length; ++i) {
            address p = providers[i];
            if (!handler.isHonest(p)) continue;
            vm.assertEq(
                registry.stakeOf(p).staked + handler.ghostCapturedLoss(p),
                handler.ghostHonestStaked(p),
                "an honest provider lost stake outside a captured council"
            );
        }
    }

    /// @notice Per task: escrow left + paid out = escrowed (nothing paid twice), the executor
    ///         never gets more than its price, and an ended task keeps no escrow and no lock.
    function invariant_nothingPaidTwice() public view {
        vm.assertFalse(handler.ghostBroken(), handler.broken());
        for (uint256 i; i < handler.taskCount(); ++i) {
            uint256 id = handler.tasks(i);
            ITaskMarket.Task memory t = market.getTask(id);
            vm.assertEq(t.escrow + handler.ghostPaidOut(id), handler.ghostEscrowed(id), "escrow leak");
            vm.assertLe(handler.ghostExecutorPaid(id), t.price, "executor paid more than its price");
            if (t.status == ITaskMarket.Status.Open || t.status == ITaskMarket.Status.Assigned) continue;
            vm.assertEq(t.escrow, 0, "ended task keeps escrow");
            for (uint256 j; j < providers.length; ++j) {
                vm.assertEq(market.lockedFor(id, providers[j]), 0, "ended task keeps collateral");
            }
        }
    }

    /// @notice The handler is not vacuous: 3,000 pseudo-random calls reach every attack and
    ///         every outcome the invariants are about. The counts are logged (forge -vv).
    function test_adversaryReachesEveryPath() public {
        bytes4[] memory sel = handler.selectors();
        for (uint256 i; i < 3_000; ++i) {
            uint256 r = uint256(keccak256(abi.encode("adversary campaign", i)));
            bytes4 s = sel[r % sel.length];
            uint256 third = s == AdversaryTaskHandler.sybilStake.selector ? (r >> 24) % 2 : r >> 24;
            (bool ok,) = address(handler).call(abi.encodePacked(s, abi.encode(r >> 8, r >> 16, third)));
            vm.assertTrue(ok, "handler call reverted");
        }
        handler.settleEverything();
        _logCounts();
        vm.assertFalse(handler.ghostBroken(), handler.broken());
        string[9] memory paths = [
            "submit", "sybilBid", "honestBid", "honestEvicts", "garbageCommit", "colludeCommit", "colludeReveal",
            "rejected", "accepted"
        ];
        for (uint256 i; i < paths.length; ++i) {
            vm.assertGt(handler.done(bytes32(bytes(paths[i]))), 0, string.concat("never reached: ", paths[i]));
        }
        vm.assertGt(handler.earlyAssignsRefused(), 0, "no early assign tried");
        vm.assertGt(handler.evictionsOfSybils(), 0, "no Sybil evicted");
        vm.assertGt(handler.sybilExecutions(), 0, "no Sybil executed");
        vm.assertGt(handler.garbageRejected(), 0, "no garbage rejected");
        vm.assertGt(handler.honestJudged(), 0, "no honest work judged");
        vm.assertGt(handler.captures(), 0, "no captured council");
        vm.assertGt(handler.councilsJudged(), handler.captures(), "every council captured");
        vm.assertGt(handler.lazySlashes(), 0, "lazy voter never slashed");
        vm.assertGt(handler.councilsSeated(), 0, "no council seated");
        vm.assertGt(handler.redraws(), 0, "no undecided round re-drawn");
    }

    function _logCounts() internal {
        emit log_named_uint("tasks", handler.taskCount());
        emit log_named_uint("councils judged", handler.councilsJudged());
        emit log_named_uint("captured (honest seats <= half)", handler.captures());
        emit log_named_uint("Sybil strict majorities", handler.sybilMajorities());
        emit log_named_uint("garbage judged", handler.garbageJudged());
        emit log_named_uint("garbage rejected", handler.garbageRejected());
        emit log_named_uint("garbage accepted (Sybil majority)", handler.garbageAccepted());
        emit log_named_uint("honest work judged", handler.honestJudged());
        emit log_named_uint("honest slashed by a captured council", handler.honestSlashedByCapture());
        emit log_named_uint("lazy voter slashes", handler.lazySlashes());
        emit log_named_uint("Sybil executions", handler.sybilExecutions());
        emit log_named_uint("honest executions", handler.honestExecutions());
        emit log_named_uint("early assigns refused", handler.earlyAssignsRefused());
        emit log_named_uint("Sybil bids evicted by honest ones", handler.evictionsOfSybils());
        emit log_named_uint("councils seated from the pool", handler.councilsSeated());
        emit log_named_uint("seats: honest", handler.seatedHonest());
        emit log_named_uint("seats: Sybil", handler.seatedSybil());
        emit log_named_uint("seats: lazy", handler.seatedLazy());
        emit log_named_uint("undecided rounds re-drawn", handler.redraws());
        emit log_named_uint("tasks failed undecided (executor not slashed)", handler.undecidedFailures());
    }

    /// @notice After each run anyone can end every task: the market empties and every lock is released.
    function afterInvariant() external {
        handler.settleEverything();
        vm.assertFalse(handler.ghostBroken(), handler.broken());
        vm.assertEq(token.balanceOf(address(market)), 0, "tokens stuck in the market");
        for (uint256 j; j < providers.length; ++j) {
            vm.assertEq(registry.stakeOf(providers[j]).locked, 0, "collateral still locked");
        }
        _logCounts();
    }
}
