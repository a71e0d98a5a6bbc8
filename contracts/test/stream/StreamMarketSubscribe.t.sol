// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {StreamFixture} from "../utils/StreamFixture.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Subscriptions (subscribe, requestUnsubscribe, finishUnsubscribe, the cap, the order)
///         and closing (close, finalizeClose).
contract StreamMarketSubscribeTest is StreamFixture {
    uint256 internal id;

    function setUp() public override {
        _deploy(34);
        id = _create();
    }

    function _unexpected(uint256 streamId, IStreamMarket.StreamStatus s, IStreamMarket.StreamStatus e)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(IStreamMarket.StreamMarketUnexpectedStatus.selector, streamId, s, e);
    }

    function _notSubscribed(address p, IStreamMarket.SubscriptionStatus s) internal view returns (bytes memory) {
        return abi.encodeWithSelector(IStreamMarket.StreamMarketNotSubscribed.selector, id, p, s);
    }

    function _requestUnsubscribe(address p) internal {
        vm.prank(p);
        market.requestUnsubscribe(id);
    }

    function _finishUnsubscribe(address p) internal {
        vm.prank(p);
        market.finishUnsubscribe(id);
    }

    function _close() internal {
        vm.prank(client);
        market.close(id);
    }

    // ================================================================== subscribe

    function test_subscribe_locksAndEmits() public {
        address p = providers[0];
        vm.expectEmit(address(market));
        emit IStreamMarket.Subscribed(id, p, COLLATERAL, 1);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralLocked(p, address(market), COLLATERAL, COLLATERAL);
        _subscribe(id, p);

        vm.assertEq(_locked(p), COLLATERAL);
        vm.assertEq(market.subscription(id, p).locked, COLLATERAL);
        IStreamMarket.Subscription memory sub = market.subscription(id, p);
        vm.assertEq(uint8(sub.status), uint8(IStreamMarket.SubscriptionStatus.Active));
        vm.assertEq(sub.locked, COLLATERAL);
        vm.assertEq(sub.subscribedAt, START);
        vm.assertEq(sub.noticeEnd, 0);
        vm.assertEq(sub.openDispute, 0);
        vm.assertEq(_stream(id).subscriberCount, 1);
        address[] memory list = market.subscribersOf(id);
        vm.assertEq(list.length, 1);
        vm.assertEq(list[0], p);
    }

    function test_subscribe_keepsSubscriptionOrder() public {
        for (uint256 i; i < 5; ++i) {
            _subscribe(id, providers[4 - i]);
        }
        address[] memory list = market.subscribersOf(id);
        for (uint256 i; i < 5; ++i) {
            vm.assertEq(list[i], providers[4 - i]);
        }
    }

    function test_subscribe_atAnyTimeAndToManyStreams() public {
        vm.warp(START + 200 days);
        uint256 other = _create();
        _subscribe(id, providers[0]);
        _subscribe(other, providers[0]);
        vm.assertEq(_locked(providers[0]), 2 * COLLATERAL);
        vm.assertEq(market.subscription(id, providers[0]).locked, COLLATERAL);
        vm.assertEq(market.subscription(other, providers[0]).locked, COLLATERAL);
    }

    function test_subscribe_upTo32() public {
        for (uint256 i; i < 32; ++i) {
            _subscribe(id, providers[i]);
        }
        vm.assertEq(_stream(id).subscriberCount, 32);
        vm.expectRevert(
            abi.encodeWithSelector(IStreamMarket.StreamMarketSubscriberCapReached.selector, id, uint8(32))
        );
        _subscribe(id, providers[32]);
        // a place frees up when someone leaves
        _requestUnsubscribe(providers[5]);
        vm.warp(START + UNSUB_NOTICE);
        _finishUnsubscribe(providers[5]);
        _subscribe(id, providers[32]);
        vm.assertEq(market.subscribersOf(id)[31], providers[32]);
    }

    function test_subscribe_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketUnknownStream.selector, 5));
        _subscribe(5, providers[0]);

        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketClientCannotSubscribe.selector, id, client));
        vm.prank(client);
        market.subscribe(id);

        _subscribe(id, providers[0]);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketAlreadySubscribed.selector, id, providers[0]));
        _subscribe(id, providers[0]);
        _requestUnsubscribe(providers[0]);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketAlreadySubscribed.selector, id, providers[0]));
        _subscribe(id, providers[0]);

        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketProviderNotRegistered.selector, stranger));
        vm.prank(stranger);
        market.subscribe(id);

        // not enough free stake: the registry's error bubbles up
        address poor = makeAddr("poor");
        vm.prank(admin);
        token.mint(poor, COLLATERAL);
        vm.startPrank(poor);
        token.approve(address(registry), COLLATERAL);
        registry.stake(COLLATERAL - 1);
        registry.register("https://poor.example", bytes32(0));
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(
                IProviderRegistry.ProviderRegistryInsufficientFreeStake.selector, poor, COLLATERAL, COLLATERAL - 1
            )
        );
        vm.prank(poor);
        market.subscribe(id);

        _close();
        vm.expectRevert(
            _unexpected(id, IStreamMarket.StreamStatus.Closing, IStreamMarket.StreamStatus.Active)
        );
        _subscribe(id, providers[1]);
        vm.warp(START + CLOSE_NOTICE);
        market.finalizeClose(id);
        vm.expectRevert(_unexpected(id, IStreamMarket.StreamStatus.Closed, IStreamMarket.StreamStatus.Active));
        _subscribe(id, providers[1]);
    }

    function test_subscribe_withoutMarketRoleReverts() public {
        IStreamMarket unwired = _deployMarket(_defaultConfig());
        IStreamMarket.StreamParams memory p = _params();
        p.deposit = 0;
        vm.prank(client);
        uint256 sid = unwired.create(p);
        bytes32 role = registry.MARKET_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(unwired), role)
        );
        vm.prank(providers[0]);
        unwired.subscribe(sid);
    }

    // ================================================================== requestUnsubscribe

    function test_requestUnsubscribe_startsNoticeAndEmits() public {
        _subscribe(id, providers[0]);
        vm.warp(START + 100);
        uint64 end = uint64(START + 100 + UNSUB_NOTICE);
        vm.expectEmit(address(market));
        emit IStreamMarket.UnsubscribeRequested(id, providers[0], end);
        _requestUnsubscribe(providers[0]);
        IStreamMarket.Subscription memory sub = market.subscription(id, providers[0]);
        vm.assertEq(uint8(sub.status), uint8(IStreamMarket.SubscriptionStatus.Unsubscribing));
        vm.assertEq(sub.noticeEnd, end);
        vm.assertEq(sub.locked, COLLATERAL, "still locked during the notice");
        vm.assertEq(_locked(providers[0]), COLLATERAL);
        vm.assertEq(market.subscribersOf(id).length, 1, "still a subscriber during the notice");
    }

    function test_requestUnsubscribe_whileClosing() public {
        _subscribe(id, providers[0]);
        _close();
        _requestUnsubscribe(providers[0]);
        vm.warp(START + UNSUB_NOTICE);
        _finishUnsubscribe(providers[0]);
        vm.assertEq(_locked(providers[0]), 0);
    }

    function test_requestUnsubscribe_reverts() public {
        vm.expectRevert(_notSubscribed(providers[0], IStreamMarket.SubscriptionStatus.None));
        _requestUnsubscribe(providers[0]);
        _subscribe(id, providers[0]);
        _requestUnsubscribe(providers[0]);
        vm.expectRevert(_notSubscribed(providers[0], IStreamMarket.SubscriptionStatus.Unsubscribing));
        _requestUnsubscribe(providers[0]);
        // unknown stream: nobody is subscribed to it
        vm.expectRevert(
            abi.encodeWithSelector(
                IStreamMarket.StreamMarketNotSubscribed.selector,
                77,
                providers[0],
                IStreamMarket.SubscriptionStatus.None
            )
        );
        vm.prank(providers[0]);
        market.requestUnsubscribe(77);
    }

    // ================================================================== finishUnsubscribe

    function test_finishUnsubscribe_releasesAndEmits() public {
        for (uint256 i; i < 4; ++i) {
            _subscribe(id, providers[i]);
        }
        _requestUnsubscribe(providers[1]);
        vm.warp(START + UNSUB_NOTICE);
        vm.expectEmit(address(market));
        emit IStreamMarket.Unsubscribed(id, providers[1], COLLATERAL, 3);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.CollateralUnlocked(providers[1], address(market), COLLATERAL, 0);
        _finishUnsubscribe(providers[1]);

        vm.assertEq(_locked(providers[1]), 0);
        vm.assertEq(market.subscription(id, providers[1]).locked, 0);
        IStreamMarket.Subscription memory sub = market.subscription(id, providers[1]);
        vm.assertEq(uint8(sub.status), uint8(IStreamMarket.SubscriptionStatus.None));
        vm.assertEq(sub.subscribedAt, 0);
        vm.assertEq(sub.noticeEnd, 0);
        address[] memory list = market.subscribersOf(id);
        vm.assertEq(list.length, 3);
        vm.assertEq(list[0], providers[0]);
        vm.assertEq(list[1], providers[2], "the others keep their order");
        vm.assertEq(list[2], providers[3]);
        vm.assertEq(_stream(id).subscriberCount, 3);
    }

    function test_finishUnsubscribe_lastAndOnly() public {
        _subscribe(id, providers[0]);
        _subscribe(id, providers[1]);
        _requestUnsubscribe(providers[1]);
        _requestUnsubscribe(providers[0]);
        vm.warp(START + UNSUB_NOTICE);
        _finishUnsubscribe(providers[1]);
        vm.assertEq(market.subscribersOf(id)[0], providers[0]);
        _finishUnsubscribe(providers[0]);
        vm.assertEq(market.subscribersOf(id).length, 0);
    }

    function test_finishUnsubscribe_canSubscribeAgain() public {
        _subscribe(id, providers[0]);
        _subscribe(id, providers[1]);
        _requestUnsubscribe(providers[0]);
        vm.warp(START + UNSUB_NOTICE);
        _finishUnsubscribe(providers[0]);
        _subscribe(id, providers[0]);
        address[] memory list = market.subscribersOf(id);
        vm.assertEq(list[0], providers[1]);
        vm.assertEq(list[1], providers[0], "back at the end of the order");
        vm.assertEq(market.subscription(id, providers[0]).subscribedAt, START + UNSUB_NOTICE);
    }

    function test_finishUnsubscribe_reverts() public {
        vm.expectRevert(_notSubscribed(providers[0], IStreamMarket.SubscriptionStatus.None));
        _finishUnsubscribe(providers[0]);
        _subscribe(id, providers[0]);
        vm.expectRevert(_notSubscribed(providers[0], IStreamMarket.SubscriptionStatus.Active));
        _finishUnsubscribe(providers[0]);
        _requestUnsubscribe(providers[0]);
        vm.warp(START + UNSUB_NOTICE - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStreamMarket.StreamMarketUnsubscribeNoticeNotOver.selector,
                id,
                providers[0],
                uint64(START + UNSUB_NOTICE)
            )
        );
        _finishUnsubscribe(providers[0]);
        vm.warp(START + UNSUB_NOTICE);
        _finishUnsubscribe(providers[0]);
        vm.expectRevert(_notSubscribed(providers[0], IStreamMarket.SubscriptionStatus.None));
        _finishUnsubscribe(providers[0]);
    }

    function testFuzz_unsubscribeNotice(uint32 notice, uint32 requestAfter, uint32 finishAfter) public {
        notice = uint32(bound(notice, 1 minutes, 30 days));
        requestAfter = uint32(bound(requestAfter, 0, 365 days));
        finishAfter = uint32(bound(finishAfter, 0, 60 days));
        IStreamMarket.StreamParams memory p = _params();
        p.unsubscribeNotice = notice;
        uint256 sid = _create(p);
        _subscribe(sid, providers[0]);
        vm.warp(START + requestAfter);
        vm.prank(providers[0]);
        market.requestUnsubscribe(sid);
        uint256 end = START + uint256(requestAfter) + notice;
        vm.warp(START + uint256(requestAfter) + finishAfter);
        if (finishAfter < notice) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IStreamMarket.StreamMarketUnsubscribeNoticeNotOver.selector, sid, providers[0], uint64(end)
                )
            );
        }
        vm.prank(providers[0]);
        market.finishUnsubscribe(sid);
        vm.assertEq(_locked(providers[0]), finishAfter < notice ? COLLATERAL : 0);
    }

    // ================================================================== close / finalizeClose

    function test_close_startsNoticeAndEmits() public {
        vm.warp(START + 50);
        vm.expectEmit(address(market));
        emit IStreamMarket.StreamCloseRequested(id, uint64(START + 50 + CLOSE_NOTICE));
        _close();
        IStreamMarket.Stream memory s = _stream(id);
        vm.assertEq(uint8(s.status), uint8(IStreamMarket.StreamStatus.Closing));
        vm.assertEq(s.closeAt, START + 50 + CLOSE_NOTICE);
        vm.assertEq(s.deposit, DEPOSIT);
    }

    function test_close_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketUnknownStream.selector, 3));
        vm.prank(client);
        market.close(3);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketNotClient.selector, id, providers[0]));
        vm.prank(providers[0]);
        market.close(id);
        _close();
        vm.expectRevert(_unexpected(id, IStreamMarket.StreamStatus.Closing, IStreamMarket.StreamStatus.Active));
        _close();
        vm.warp(START + CLOSE_NOTICE);
        market.finalizeClose(id);
        vm.expectRevert(_unexpected(id, IStreamMarket.StreamStatus.Closed, IStreamMarket.StreamStatus.Active));
        _close();
    }

    function test_finalizeClose_refundsReleasesEveryoneAndEmits() public {
        for (uint256 i; i < 5; ++i) {
            _subscribe(id, providers[i]);
        }
        _requestUnsubscribe(providers[2]); // unsubscribing subscribers are released too
        _redeem(id, providers[0], 30e18);
        _close();
        _redeem(id, providers[1], 20e18); // providers redeem during the notice
        vm.warp(START + CLOSE_NOTICE);
        _redeem(id, providers[3], 5e18); // ... until it is finalized
        uint256 refund = DEPOSIT - 55e18;
        uint256 clientBefore = token.balanceOf(client);
        vm.expectEmit(address(market));
        emit IStreamMarket.StreamClosed(id, refund);
        for (uint256 i; i < 5; ++i) {
            vm.expectEmit(address(registry));
            emit IProviderRegistry.CollateralUnlocked(providers[i], address(market), COLLATERAL, 0);
        }
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(market), client, refund);
        vm.prank(stranger); // anyone
        market.finalizeClose(id);

        IStreamMarket.Stream memory s = _stream(id);
        vm.assertEq(uint8(s.status), uint8(IStreamMarket.StreamStatus.Closed));
        vm.assertEq(s.deposit, 0);
        vm.assertEq(s.subscriberCount, 0);
        vm.assertEq(market.subscribersOf(id).length, 0);
        vm.assertEq(token.balanceOf(client), clientBefore + refund);
        vm.assertEq(token.balanceOf(address(market)), 0);
        for (uint256 i; i < 5; ++i) {
            vm.assertEq(_locked(providers[i]), 0);
            vm.assertEq(market.subscription(id, providers[i]).locked, 0);
            vm.assertEq(uint8(market.subscription(id, providers[i]).status), uint8(IStreamMarket.SubscriptionStatus.None));
        }
        // nothing can happen on a closed stream
        bytes memory sig = _voucher(id, providers[4], 1e18);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketStreamClosed.selector, id));
        vm.prank(providers[4]);
        market.redeem(id, 1e18, sig);
    }

    function test_finalizeClose_emptyStreamAndZeroDeposit() public {
        IStreamMarket.StreamParams memory p = _params();
        p.deposit = 0;
        uint256 sid = _create(p);
        vm.prank(client);
        market.close(sid);
        vm.warp(START + CLOSE_NOTICE);
        vm.expectEmit(address(market));
        emit IStreamMarket.StreamClosed(sid, 0);
        market.finalizeClose(sid);
        vm.assertEq(uint8(_stream(sid).status), uint8(IStreamMarket.StreamStatus.Closed));
    }

    function test_finalizeClose_32Subscribers() public {
        for (uint256 i; i < 32; ++i) {
            _subscribe(id, providers[i]);
        }
        _close();
        vm.warp(START + CLOSE_NOTICE);
        market.finalizeClose(id);
        for (uint256 i; i < 32; ++i) {
            vm.assertEq(_locked(providers[i]), 0);
        }
    }

    function test_finalizeClose_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketUnknownStream.selector, 8));
        market.finalizeClose(8);
        vm.expectRevert(_unexpected(id, IStreamMarket.StreamStatus.Active, IStreamMarket.StreamStatus.Closing));
        market.finalizeClose(id);
        _close();
        vm.warp(START + CLOSE_NOTICE - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStreamMarket.StreamMarketCloseNoticeNotOver.selector, id, uint64(START + CLOSE_NOTICE)
            )
        );
        market.finalizeClose(id);
        vm.warp(START + CLOSE_NOTICE);
        market.finalizeClose(id);
        vm.expectRevert(_unexpected(id, IStreamMarket.StreamStatus.Closed, IStreamMarket.StreamStatus.Closing));
        market.finalizeClose(id);
    }

    function testFuzz_closeNotice(uint32 notice, uint32 closeAfter, uint32 finalizeAfter) public {
        notice = uint32(bound(notice, 1 minutes, 30 days));
        closeAfter = uint32(bound(closeAfter, 0, 365 days));
        finalizeAfter = uint32(bound(finalizeAfter, 0, 60 days));
        IStreamMarket.StreamParams memory p = _params();
        p.closeNotice = notice;
        uint256 sid = _create(p);
        _subscribe(sid, providers[0]);
        vm.warp(START + closeAfter);
        vm.prank(client);
        market.close(sid);
        vm.warp(START + uint256(closeAfter) + finalizeAfter);
        if (finalizeAfter < notice) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IStreamMarket.StreamMarketCloseNoticeNotOver.selector, sid, uint64(START + uint256(closeAfter) + notice)
                )
            );
        }
        market.finalizeClose(sid);
        bool closed = finalizeAfter >= notice;
        vm.assertEq(uint8(_stream(sid).status), uint8(closed ? IStreamMarket.StreamStatus.Closed : IStreamMarket.StreamStatus.Closing));
        vm.assertEq(_locked(providers[0]), closed ? 0 : COLLATERAL);
        vm.assertEq(_stream(sid).deposit, closed ? 0 : DEPOSIT);
    }
}
