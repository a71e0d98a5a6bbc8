// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StreamFixture} from "../utils/StreamFixture.sol";
import {AdversaryStreamHandler} from "./AdversaryStreamHandler.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Issue 12's invariants for the stream market under attack (AdversaryStreamHandler: an
///         over-signing client with two Sybil subscribers, staked pool members, that subscribe
///         first, redeem aggressively and judge honest receipts invalid wherever the pool draw
///         seats them; four honest providers serving only within surelyRedeemable): every honest provider is paid what it served within the
///         guarantee; no stream pays out more than was deposited; conservation of oGPU;
///         locked <= staked; nothing paid twice; no honest provider slashed unless the council
///         that judged it was captured. Each invariant runs its own campaign of 50 x 200 = 10,000
///         handler calls (foundry.toml), fail_on_revert on.
contract StreamMarketAdversaryInvariantTest is StreamFixture {
    event log_named_uint(string key, uint256 val);

    AdversaryStreamHandler internal handler;

    function setUp() public override {
        _deploy(6);
        uint256[] memory keys = new uint256[](providers.length);
        for (uint256 i; i < providers.length; ++i) {
            keys[i] = keyOf[providers[i]]; // every provider, Sybils included, is in the pool (StreamFixture)
        }
        for (uint256 i; i < 2; ++i) {
            vm.prank(providers[i]); // the Sybils pay dispute bonds
            token.approve(address(market), type(uint256).max);
        }
        handler = new AdversaryStreamHandler(
            market, registry, token, admin, client, clientKey, providers, keys, MODEL_HASH
        );
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: handler.selectors()}));
    }

    /// @notice Supply = balances; the market holds exactly every open stream's funds (unreserved
    ///         deposit + allowances) plus the open bonds, each stream's funds = deposited - paid
    ///         out, and no stream ever paid out in vouchers more than was deposited into it; the
    ///         registry holds exactly its stake; locked <= staked = the market's ledger
    ///         (subscription collateral plus the stream's collateral per open council seat).
    function invariant_conservedAndLocked() public view {
        uint256 marketBalance = token.balanceOf(address(market));
        uint256 sum = marketBalance + token.balanceOf(address(registry)) + token.balanceOf(admin)
            + token.balanceOf(client) + token.balanceOf(stranger) + token.balanceOf(address(handler));
        for (uint256 i; i < providers.length; ++i) {
            sum += token.balanceOf(providers[i]);
        }
        vm.assertEq(sum, token.totalSupply(), "sum of balances != totalSupply");
        uint256 held;
        for (uint256 i; i < handler.streamCount(); ++i) {
            uint256 id = handler.streams(i);
            IStreamMarket.Stream memory s = market.getStream(id);
            uint256 funds = s.deposit + handler.reservedOf(id);
            held += funds;
            vm.assertEq(funds, handler.ghostDeposited(id) - handler.ghostPaidOut(id), "stream funds != in - out");
            vm.assertLe(handler.ghostRedeemedTotal(id), handler.ghostDeposited(id), "redeemed more than deposited");
        }
        vm.assertEq(marketBalance, held + handler.ghostOpenBonds(), "market balance != funds + open bonds");
        vm.assertEq(
            token.balanceOf(address(registry)), registry.totalStaked() + registry.totalUnbonding(), "registry books"
        );
        for (uint256 j; j < providers.length; ++j) {
            uint256 ledger;
            for (uint256 i; i < handler.streamCount(); ++i) {
                ledger += market.subscription(handler.streams(i), providers[j]).locked;
            }
            ledger += handler.seatLocked(providers[j]);
            IProviderRegistry.StakeInfo memory si = registry.stakeOf(providers[j]);
            vm.assertLe(si.locked, si.staked, "locked > staked");
            vm.assertEq(si.locked, ledger, "registry lock != market ledger");
        }
    }

    /// @notice The chain still holds, in each honest provider's allowance, everything it served
    ///         within the guarantee and has not redeemed yet (and every redeem paid it at least
    ///         that: checked by the handler); its stake is what it put in minus what captured
    ///         councils took; no rule the handler checks broke.
    function invariant_honestPaidWhatItServed() public view {
        vm.assertFalse(handler.ghostBroken(), handler.broken());
        for (uint256 j; j < handler.honestCount(); ++j) {
            address h = handler.honest(j);
            vm.assertEq(
                registry.stakeOf(h).staked + handler.ghostCapturedLoss(h),
                handler.ghostHonestStaked(h),
                "an honest provider lost stake outside a captured council"
            );
            for (uint256 i; i < handler.streamCount(); ++i) {
                uint256 id = handler.streams(i);
                if (handler.ghostVoided(id, h)) continue;
                uint256 owed = handler.ghostServed(id, h);
                uint256 redeemed = market.redeemed(id, h);
                if (market.getStream(id).status == IStreamMarket.StreamStatus.Closed) {
                    vm.assertGe(redeemed, owed, "closed owing an honest provider");
                } else {
                    vm.assertGe(redeemed + market.subscription(id, h).allowance, owed, "served credit not held for it");
                }
            }
        }
    }

    /// @notice Nobody redeemed more than the client signed for it, each redeem paid exactly its
    ///         booked amount, and no voucher or dispute settled twice.
    function invariant_nothingPaidTwice() public view {
        vm.assertFalse(handler.ghostBroken(), handler.broken());
        for (uint256 i; i < handler.streamCount(); ++i) {
            uint256 id = handler.streams(i);
            for (uint256 j; j < providers.length; ++j) {
                address p = providers[j];
                uint256 r = market.redeemed(id, p);
                vm.assertLe(r, handler.ghostSigned(id, p), "redeemed more than signed");
                vm.assertEq(r, handler.ghostReceived(id, p), "paid != redeemed total");
            }
        }
    }

    /// @notice The handler is not vacuous: 3,000 pseudo-random calls reach every attack and
    ///         outcome; the counts are logged (forge -vv).
    function test_adversaryReachesEveryPath() public {
        bytes4[] memory sel = handler.selectors();
        for (uint256 i; i < 3_000; ++i) {
            uint256 r = uint256(keccak256(abi.encode("adversary stream campaign", i)));
            (bool ok,) = address(handler).call(abi.encodePacked(sel[r % sel.length], abi.encode(r >> 8, r >> 16, r >> 24)));
            vm.assertTrue(ok, "handler call reverted");
        }
        handler.settleEverything();
        _logCounts();
        vm.assertFalse(handler.ghostBroken(), handler.broken());
        string[12] memory paths = [
            "create", "honestSubscribe", "topUp", "allowanceIncreased", "allowanceDecreased", "close",
            "finalizeClose", "disputeHonest", "sybilDisputes", "invalid", "seated", "valid"
        ];
        for (uint256 i; i < paths.length; ++i) {
            vm.assertGt(handler.done(bytes32(bytes(paths[i]))), 0, string.concat("never reached: ", paths[i]));
        }
        vm.assertGt(handler.served(), 0, "nothing served");
        vm.assertGt(handler.overSignedRefused(), 0, "no over-signed voucher refused");
        vm.assertGt(handler.honestRedeems(), 0, "no honest redeem");
        vm.assertGt(handler.sybilRedeems(), 0, "no Sybil redeem");
        vm.assertGt(handler.decreasesAnnounced(), 0, "no decrease announced");
        vm.assertGt(handler.councilsJudged(), 0, "no dispute judged");
    }

    function _logCounts() internal {
        emit log_named_uint("streams", handler.streamCount());
        emit log_named_uint("requests served within surelyRedeemable", handler.served());
        emit log_named_uint("requests refused (402)", handler.refused402());
        emit log_named_uint("over-signed vouchers offered", handler.overSignedOffers());
        emit log_named_uint("over-signed vouchers refused", handler.overSignedRefused());
        emit log_named_uint("honest redeems (each paid >= served)", handler.honestRedeems());
        emit log_named_uint("Sybil redeems", handler.sybilRedeems());
        emit log_named_uint("allowance decreases announced", handler.decreasesAnnounced());
        emit log_named_uint("dispute councils judged", handler.councilsJudged());
        emit log_named_uint("captured (honest seats <= half)", handler.captures());
        emit log_named_uint("honest removed by a captured council", handler.honestRemovedByCapture());
        emit log_named_uint("honest receipts upheld", handler.honestDisputesWon());
    }

    /// @notice After each run anyone can settle every dispute and close every stream: the market
    ///         empties, every lock is released, and every honest provider was paid what it served.
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
