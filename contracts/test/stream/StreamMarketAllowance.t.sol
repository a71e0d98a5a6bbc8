// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StreamFixture} from "../utils/StreamFixture.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";

/// @notice Per-subscriber allowances (issue 12, attack 3): the client reserves parts of the
///         deposit for single providers; only that provider's redeems spend its allowance; a
///         decrease needs the close notice; what is left returns to the unreserved deposit when
///         the subscription ends and at the close. surelyRedeemable is credit the chain
///         guarantees: fuzzed, a provider that served within it is paid in full whatever the other
///         subscribers and the client do.
contract StreamMarketAllowanceTest is StreamFixture {
    uint256 internal id;
    address internal p0;
    address internal p1;
    address internal p2;

    function setUp() public override {
        super.setUp();
        id = _streamWith(3);
        p0 = providers[0];
        p1 = providers[1];
        p2 = providers[2];
    }

    function _increase(address p, uint256 amount) internal {
        vm.prank(client);
        market.increaseAllowance(id, p, amount);
    }

    function _requestDecrease(address p, uint256 amount) internal {
        vm.prank(client);
        market.requestAllowanceDecrease(id, p, amount);
    }

    function _left(address p) internal view returns (uint256) {
        return market.subscription(id, p).allowance;
    }

    // ================================================================== increase

    function test_increase_movesFromTheDepositAndEmits() public {
        vm.expectEmit(address(market));
        emit IStreamMarket.AllowanceIncreased(id, p0, 30e18, 30e18, DEPOSIT - 30e18);
        _increase(p0, 30e18);
        vm.expectEmit(address(market));
        emit IStreamMarket.AllowanceIncreased(id, p0, 5e18, 35e18, DEPOSIT - 35e18);
        _increase(p0, 5e18);
        _increase(p1, 10e18);
        IStreamMarket.Stream memory s = _stream(id);
        vm.assertEq(s.deposit, DEPOSIT - 45e18, "unreserved");
        vm.assertEq(_reserved(id), 45e18, "reserved");
        vm.assertEq(market.surelyRedeemable(id, p0), 35e18);
        vm.assertEq(market.surelyRedeemable(id, p1), 10e18);
        vm.assertEq(market.surelyRedeemable(id, p2), 0);
        IStreamMarket.Subscription memory a = market.subscription(id, p0);
        vm.assertEq(a.allowance, 35e18);
        vm.assertEq(a.pendingDecrease, 0);
        vm.assertEq(a.decreaseAt, 0);
        vm.assertEq(token.balanceOf(address(market)), DEPOSIT, "no token moved");
    }

    function test_increase_reverts() public {
        vm.expectRevert(IStreamMarket.StreamMarketZeroAmount.selector);
        _increase(p0, 0);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketUnknownStream.selector, 99));
        market.increaseAllowance(99, p0, 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketNotClient.selector, id, stranger));
        market.increaseAllowance(id, p0, 1);
        address outsider = providers[7];
        vm.expectRevert(
            abi.encodeWithSelector(
                IStreamMarket.StreamMarketNotSubscribed.selector, id, outsider, IStreamMarket.SubscriptionStatus.None
            )
        );
        _increase(outsider, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketAllowanceExceedsDeposit.selector, id, DEPOSIT + 1, DEPOSIT)
        );
        _increase(p0, DEPOSIT + 1);
        _increase(p0, 60e18);
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketAllowanceExceedsDeposit.selector, id, 41e18, 40e18)
        );
        _increase(p1, 41e18);
        // a Closed stream takes none
        vm.prank(client);
        market.close(id);
        _increase(p1, 1e18); // still possible while Closing
        vm.warp(START + CLOSE_NOTICE);
        market.finalizeClose(id);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketStreamClosed.selector, id));
        _increase(p0, 1);
    }

    function test_increase_unsubscribingProviderStillGetsOne() public {
        vm.prank(p0);
        market.requestUnsubscribe(id);
        _increase(p0, 1e18);
        vm.assertEq(market.surelyRedeemable(id, p0), 1e18);
    }

    // ================================================================== redeem

    function test_redeem_spendsTheAllowanceFirstThenTheDeposit() public {
        _increase(p0, 10e18);
        vm.expectEmit(address(market));
        emit IStreamMarket.VoucherRedeemed(id, p0, 4e18, 4e18, 4e18, 6e18, DEPOSIT - 10e18);
        vm.assertEq(_redeem(id, p0, 4e18), 4e18);
        // beyond its allowance, the unreserved deposit pays (first come, first served)
        vm.expectEmit(address(market));
        emit IStreamMarket.VoucherRedeemed(id, p0, 15e18, 11e18, 15e18, 0, DEPOSIT - 15e18);
        vm.assertEq(_redeem(id, p0, 15e18), 11e18);
        vm.assertEq(_reserved(id), 0);
    }

    function test_redeem_othersCannotTouchAnAllowance() public {
        _increase(p0, 10e18);
        // p1 holds a voucher far above the deposit and drains every unreserved token
        vm.assertEq(_redeem(id, p1, 1_000e18), DEPOSIT - 10e18);
        vm.assertEq(_stream(id).deposit, 0);
        uint256 owed = 1_001e18 - (DEPOSIT - 10e18);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketDepositEmpty.selector, id, owed));
        _redeem(id, p1, 1_001e18);
        // p0 still gets all of its allowance
        vm.assertEq(_left(p0), 10e18);
        vm.assertEq(market.surelyRedeemable(id, p0), 10e18);
        vm.assertEq(_redeem(id, p0, 10e18), 10e18);
    }

    /// @notice Attack 3: a deposit of 0.001 oGPU, a voucher of 1000 oGPU. The chain now tells the
    ///         provider what it can surely redeem (0.001 at most), and pays exactly that.
    function test_attack3_overSignedVoucherIsWorthTheAllowanceOnly() public {
        IStreamMarket.StreamParams memory p = _params();
        p.deposit = 1e15;
        uint256 small = _create(p);
        _subscribe(small, p0);
        vm.prank(client);
        market.increaseAllowance(small, p0, 1e15);
        vm.assertEq(market.surelyRedeemable(small, p0), 1e15);
        vm.assertEq(_redeem(small, p0, 1_000e18), 1e15, "pays the allowance, not the voucher");
        vm.assertEq(market.surelyRedeemable(small, p0), 0);
    }

    // ================================================================== decrease

    function test_decrease_needsTheNotice() public {
        _increase(p0, 10e18);
        uint64 decreaseAt = uint64(block.timestamp + CLOSE_NOTICE);
        vm.expectEmit(address(market));
        emit IStreamMarket.AllowanceDecreaseRequested(id, p0, 4e18, 4e18, decreaseAt);
        _requestDecrease(p0, 4e18);
        // the announced part leaves surelyRedeemable at once, the allowance only after the notice
        vm.assertEq(market.surelyRedeemable(id, p0), 6e18);
        vm.assertEq(_left(p0), 10e18);
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketAllowanceNoticeNotOver.selector, id, p0, decreaseAt)
        );
        market.finishAllowanceDecrease(id, p0);
        vm.warp(decreaseAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketAllowanceNoticeNotOver.selector, id, p0, decreaseAt)
        );
        market.finishAllowanceDecrease(id, p0);
        vm.warp(decreaseAt);
        vm.expectEmit(address(market));
        emit IStreamMarket.AllowanceDecreased(id, p0, 4e18, 6e18, DEPOSIT - 6e18);
        vm.prank(stranger); // anyone
        market.finishAllowanceDecrease(id, p0);
        IStreamMarket.Subscription memory a = market.subscription(id, p0);
        vm.assertEq(a.allowance, 6e18);
        vm.assertEq(a.pendingDecrease, 0);
        vm.assertEq(a.decreaseAt, 0);
        vm.assertEq(market.surelyRedeemable(id, p0), 6e18);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketNoAllowanceDecrease.selector, id, p0));
        market.finishAllowanceDecrease(id, p0);
    }

    function test_decrease_secondRequestAddsAndRestartsTheNotice() public {
        _increase(p0, 10e18);
        _requestDecrease(p0, 3e18);
        vm.warp(START + CLOSE_NOTICE / 2);
        uint64 decreaseAt = uint64(block.timestamp + CLOSE_NOTICE);
        vm.expectEmit(address(market));
        emit IStreamMarket.AllowanceDecreaseRequested(id, p0, 2e18, 5e18, decreaseAt);
        _requestDecrease(p0, 2e18);
        vm.assertEq(market.surelyRedeemable(id, p0), 5e18);
        vm.warp(START + CLOSE_NOTICE); // the first notice would be over
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketAllowanceNoticeNotOver.selector, id, p0, decreaseAt)
        );
        market.finishAllowanceDecrease(id, p0);
        vm.warp(decreaseAt);
        market.finishAllowanceDecrease(id, p0);
        vm.assertEq(_left(p0), 5e18);
    }

    function test_decrease_redeemDuringTheNoticeIsPaidInFull() public {
        _increase(p0, 10e18);
        // p0 served 9 before it saw the announcement: it redeems within the notice
        _requestDecrease(p0, 8e18);
        vm.assertEq(market.surelyRedeemable(id, p0), 2e18);
        vm.assertEq(_redeem(id, p0, 9e18), 9e18, "the allowance is whole until the notice ends");
        vm.warp(START + CLOSE_NOTICE);
        vm.expectEmit(address(market));
        emit IStreamMarket.AllowanceDecreased(id, p0, 1e18, 0, DEPOSIT - 10e18 + 1e18);
        market.finishAllowanceDecrease(id, p0); // takes what is left of the announced part
        vm.assertEq(_left(p0), 0);
    }

    function test_decrease_reverts() public {
        _increase(p0, 10e18);
        vm.expectRevert(IStreamMarket.StreamMarketZeroAmount.selector);
        _requestDecrease(p0, 0);
        vm.prank(p0);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketNotClient.selector, id, p0));
        market.requestAllowanceDecrease(id, p0, 1);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketUnknownStream.selector, 99));
        market.requestAllowanceDecrease(99, p0, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketDecreaseExceedsAllowance.selector, id, p0, 10e18 + 1, 10e18)
        );
        _requestDecrease(p0, 10e18 + 1);
        _requestDecrease(p0, 7e18);
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketDecreaseExceedsAllowance.selector, id, p0, 4e18, 3e18)
        );
        _requestDecrease(p0, 4e18);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketNoAllowanceDecrease.selector, id, p1));
        market.finishAllowanceDecrease(id, p1);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketUnknownStream.selector, 99));
        market.finishAllowanceDecrease(99, p1);
        vm.prank(client);
        market.close(id);
        vm.warp(START + CLOSE_NOTICE);
        market.finalizeClose(id);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketStreamClosed.selector, id));
        _requestDecrease(p0, 1);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketStreamClosed.selector, id));
        market.finishAllowanceDecrease(id, p0);
    }

    // ================================================================== release

    function test_release_atFinishUnsubscribe() public {
        _increase(p0, 10e18);
        _requestDecrease(p0, 2e18);
        _redeem(id, p0, 3e18);
        vm.prank(p0);
        market.requestUnsubscribe(id);
        vm.warp(START + UNSUB_NOTICE);
        vm.expectEmit(address(market));
        emit IStreamMarket.AllowanceReleased(id, p0, 7e18, DEPOSIT - 3e18);
        vm.prank(p0);
        market.finishUnsubscribe(id);
        IStreamMarket.Subscription memory a = market.subscription(id, p0);
        vm.assertEq(a.allowance + a.pendingDecrease + a.decreaseAt, 0, "allowance cleared");
        vm.assertEq(market.surelyRedeemable(id, p0), 0);
        vm.assertEq(_reserved(id), 0);
        // the former subscriber still redeems what it was signed, from the unreserved deposit
        vm.assertEq(_redeem(id, p0, 5e18), 2e18);
    }

    function test_release_atRemovalByAnInvalidVerdict() public {
        _increase(p0, 10e18);
        uint256 disputeId = _dispute(id, p0, keccak256("bad"));
        _voteAll(disputeId, false);
        vm.expectEmit(address(market));
        emit IStreamMarket.AllowanceReleased(id, p0, 10e18, DEPOSIT);
        market.finalizeDispute(disputeId);
        vm.assertEq(_left(p0), 0);
        vm.assertEq(_stream(id).deposit, DEPOSIT);
    }

    function test_release_atTheCloseRefundsEverything() public {
        _increase(p0, 10e18);
        _increase(p1, 20e18);
        _redeem(id, p1, 5e18);
        vm.prank(client);
        market.close(id);
        vm.assertEq(market.surelyRedeemable(id, p0), 10e18, "still good while Closing");
        vm.warp(START + CLOSE_NOTICE);
        uint256 before = token.balanceOf(client);
        vm.expectEmit(address(market));
        emit IStreamMarket.AllowanceReleased(id, p0, 10e18, DEPOSIT - 20e18);
        vm.expectEmit(address(market));
        emit IStreamMarket.AllowanceReleased(id, p1, 15e18, DEPOSIT - 5e18);
        vm.expectEmit(address(market));
        emit IStreamMarket.StreamClosed(id, DEPOSIT - 5e18);
        market.finalizeClose(id);
        vm.assertEq(token.balanceOf(client) - before, DEPOSIT - 5e18);
        vm.assertEq(token.balanceOf(address(market)), 0);
        vm.assertEq(market.surelyRedeemable(id, p0), 0);
        vm.assertEq(market.surelyRedeemable(99, p0), 0, "unknown stream");
        IStreamMarket.Stream memory s = _stream(id);
        vm.assertEq(s.deposit + _reserved(id), 0);
    }

    // ================================================================== fuzz

    // fuzz state (storage: the test compiles without the IR pipeline)
    uint256 internal sid;
    uint256 internal served; // p0's cumulative voucher: what it served
    uint256 internal t;
    uint256[3] internal othersSigned;

    /// @notice Whatever the other subscribers redeem and in whatever order, and whatever the
    ///         client announces, a provider that serves only within surelyRedeemable (less what it
    ///         served and has not redeemed) and redeems within the notice of each announced
    ///         decrease is paid in full, every time; and nothing but its own redeems and a
    ///         finished decrease ever lowers its allowance.
    function testFuzz_allowance_servingWithinSurelyRedeemableIsPaidInFull(
        uint256[24] memory steps,
        uint96 deposit,
        uint96[3] memory shares
    ) public {
        deposit = uint96(bound(deposit, 1e18, 1_000e18));
        IStreamMarket.StreamParams memory p = _params();
        p.deposit = deposit;
        sid = _create(p);
        uint256 unreserved = deposit;
        for (uint256 i; i < 3; ++i) {
            _subscribe(sid, providers[i]);
            uint256 share = bound(shares[i], 0, unreserved);
            if (share == 0) continue;
            vm.prank(client);
            market.increaseAllowance(sid, providers[i], share);
            unreserved -= share;
        }
        t = block.timestamp;
        for (uint256 k; k < steps.length; ++k) {
            _step(steps[k]);
            vm.assertLe(served - market.redeemed(sid, p0), market.subscription(sid, p0).allowance, "served beyond the allowance");
        }
        uint256 owed = served - market.redeemed(sid, p0);
        if (owed != 0) vm.assertEq(_redeem(sid, p0, served), owed, "p0 not paid in full at the end");
        vm.assertEq(market.redeemed(sid, p0), served);
    }

    function _step(uint256 r) internal {
        uint256 action = r % 6;
        uint256 outstanding = served - market.redeemed(sid, p0);
        uint256 leftBefore = market.subscription(sid, p0).allowance;
        if (action == 0) {
            // p0 serves within what it can surely redeem
            uint256 room = market.surelyRedeemable(sid, p0);
            room = room > outstanding ? room - outstanding : 0;
            served += bound(r >> 8, 0, room);
        } else if (action == 1) {
            if (outstanding != 0) vm.assertEq(_redeem(sid, p0, served), outstanding, "p0 not paid in full");
        } else if (action == 2) {
            _otherRedeems(r);
            vm.assertEq(market.subscription(sid, p0).allowance, leftBefore, "another's redeem touched p0");
        } else if (action == 3) {
            // the client announces a decrease: p0 sees it within the notice and redeems what the
            // new surelyRedeemable no longer covers
            uint256 decreasable = market.surelyRedeemable(sid, p0);
            if (decreasable == 0) return;
            vm.prank(client);
            market.requestAllowanceDecrease(sid, p0, bound(r >> 8, 1, decreasable));
            vm.assertEq(market.subscription(sid, p0).allowance, leftBefore, "a request lowered the allowance");
            if (outstanding > market.surelyRedeemable(sid, p0)) {
                vm.assertEq(_redeem(sid, p0, served), outstanding, "p0 not paid in full within the notice");
            }
        } else if (action == 4) {
            _timePasses(r);
        } else {
            // the client tops up and reserves more for someone
            vm.prank(client);
            market.topUp(sid, 1 + (r >> 8) % 50e18);
            uint256 more = bound(r >> 80, 1, _stream(sid).deposit);
            vm.prank(client);
            market.increaseAllowance(sid, providers[(r >> 16) % 3], more);
        }
    }

    /// @dev Another subscriber redeems an over-signed voucher (any amount).
    function _otherRedeems(uint256 r) internal {
        uint256 j = 1 + (r >> 8) % 2;
        othersSigned[j] += 1 + (r >> 16) % 2_000e18;
        address other = providers[j];
        if (market.subscription(sid, other).allowance != 0 || _stream(sid).deposit != 0) _redeem(sid, other, othersSigned[j]);
    }

    /// @dev Time passes; anyone applies a decrease whose notice is over; one whose notice is not
    ///      over cannot be applied.
    function _timePasses(uint256 r) internal {
        t += bound(r >> 8, 0, 2 * CLOSE_NOTICE);
        vm.warp(t);
        IStreamMarket.Subscription memory a = market.subscription(sid, p0);
        if (a.decreaseAt == 0) return;
        if (block.timestamp < a.decreaseAt) {
            vm.expectRevert(
                abi.encodeWithSelector(IStreamMarket.StreamMarketAllowanceNoticeNotOver.selector, sid, p0, a.decreaseAt)
            );
        }
        market.finishAllowanceDecrease(sid, p0);
    }
}
