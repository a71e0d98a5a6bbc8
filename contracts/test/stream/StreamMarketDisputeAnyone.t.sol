// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {StreamFixture} from "../utils/StreamFixture.sol";
import {IStreamMarket} from "../../src/interfaces/IStreamMarket.sol";

/// @notice Disputes by anyone (issue 12, "Must hold" 3): any account but the accused disputes a
///         provider-signed receipt by paying the stream's bond; the disputer (like the accused
///         and the client) never sits on the council drawn from the pool; on Invalid it gets its bond back and half of what the voters leave of the
///         slash (the client the other half); on Valid it loses its bond to the accused and the
///         accept voters.
contract StreamMarketDisputeAnyoneTest is StreamFixture {
    uint256 internal id;
    address internal p0;

    function setUp() public override {
        _deploy(8);
        id = _streamWith(5);
        p0 = providers[0];
    }

    function _disputeAs(address who, address provider, bytes32 requestId) internal returns (uint256) {
        IStreamMarket.Receipt memory r = _receipt(id, requestId);
        bytes memory sig = _signReceipt(provider, r);
        vm.prank(who);
        uint256 disputeId = market.openDispute(provider, r, sig, EVIDENCE);
        _seat(disputeId);
        return disputeId;
    }

    function test_aStrangerDisputesPayingTheBond() public {
        IStreamMarket.Receipt memory r = _receipt(id, "x");
        bytes memory sig = _signReceipt(p0, r);
        vm.expectEmit(address(market));
        emit IStreamMarket.DisputeOpened(1, id, p0, stranger, r, EVIDENCE, BOND, uint64(block.number));
        vm.expectEmit(address(token));
        emit IERC20.Transfer(stranger, address(market), BOND);
        vm.prank(stranger);
        uint256 disputeId = market.openDispute(p0, r, sig, EVIDENCE);
        IStreamMarket.Dispute memory d = market.getDispute(disputeId);
        vm.assertEq(d.disputer, stranger);
        vm.assertEq(d.bond, BOND);
        address[] memory council = _seat(disputeId);
        vm.assertEq(council.length, COUNCIL);
        vm.assertFalse(_in(council, p0));
    }

    function test_aSubscriberDisputerIsKeptOffTheCouncil() public {
        // providers[1] accuses providers[2]; with the pool shrunk to providers 0..4 the council
        // must be the three others, neither of them
        for (uint256 i = 5; i < providers.length; ++i) {
            _leavePool(providers[i]);
        }
        vm.roll(block.number + 1);
        vm.prank(admin);
        token.mint(providers[1], BOND);
        vm.prank(providers[1]);
        token.approve(address(market), BOND);
        uint256 disputeId = _disputeAs(providers[1], providers[2], "y");
        address[] memory council = market.getDispute(disputeId).council;
        vm.assertEq(council.length, 3);
        vm.assertTrue(_in(council, p0) && _in(council, providers[3]) && _in(council, providers[4]));
        vm.assertFalse(market.verdictOf(disputeId, providers[1]).member, "the disputer holds no seat");
        vm.assertFalse(market.verdictOf(disputeId, providers[2]).member, "the accused holds no seat");
    }

    /// @notice With a pool of only the accused, the disputer and one more member, no council of 3
    ///         can be seated: the dispute drops and the disputer gets its bond back.
    function test_aDisputerLeavingTooSmallAPoolGetsItsBondBack() public {
        for (uint256 i = 3; i < providers.length; ++i) {
            _leavePool(providers[i]);
        }
        vm.roll(block.number + 1);
        vm.prank(admin);
        token.mint(providers[1], BOND);
        vm.prank(providers[1]);
        token.approve(address(market), BOND);
        IStreamMarket.Receipt memory r = _receipt(id, "z");
        bytes memory sig = _signReceipt(providers[2], r);
        vm.prank(providers[1]);
        uint256 disputeId = market.openDispute(providers[2], r, sig, EVIDENCE);
        vm.assertEq(token.balanceOf(providers[1]), FUNDS - STAKE);
        vm.roll(block.number + 1);
        vm.expectEmit(address(market));
        emit IStreamMarket.DisputeDropped(disputeId, id, providers[2], providers[1], BOND);
        market.seatDispute(disputeId);
        vm.assertEq(token.balanceOf(providers[1]), FUNDS - STAKE + BOND, "bond back");
        vm.assertEq(uint8(market.getDispute(disputeId).state), uint8(IStreamMarket.DisputeState.NoCouncil));
    }

    function test_theAccusedCannotDisputeItself() public {
        IStreamMarket.Receipt memory r = _receipt(id, "self");
        bytes memory sig = _signReceipt(p0, r);
        vm.expectRevert(abi.encodeWithSelector(IStreamMarket.StreamMarketSelfDispute.selector, id, p0));
        vm.prank(p0);
        market.openDispute(p0, r, sig, EVIDENCE);
    }

    /// @notice Only the accused and the disputer subscribed: the council still comes from the
    ///         pool (it used to revert StreamMarketNoCouncil).
    function test_councilFromThePoolWhenOnlyTheAccusedAndTheDisputerSubscribed() public {
        uint256 sid = _streamWith(2);
        IStreamMarket.Receipt memory r = _receipt(sid, "pair");
        bytes memory sig = _signReceipt(providers[1], r);
        vm.prank(admin);
        token.mint(p0, BOND);
        vm.startPrank(p0);
        token.approve(address(market), BOND);
        uint256 disputeId = market.openDispute(providers[1], r, sig, EVIDENCE);
        vm.stopPrank();
        address[] memory council = _seat(disputeId);
        vm.assertEq(council.length, COUNCIL);
        vm.assertFalse(_in(council, p0) || _in(council, providers[1]), "neither the disputer nor the accused");
    }

    function test_invalid_theDisputerGetsItsBondBackAndHalfTheRest() public {
        uint256 disputeId = _disputeAs(stranger, p0, "bad");
        _voteAll(disputeId, false);
        uint256 strangerBefore = token.balanceOf(stranger);
        uint256 clientBefore = token.balanceOf(client);
        uint256 rewardEach = COLLATERAL * 5_000 / 10_000 / 3;
        uint256 rest = COLLATERAL - rewardEach * 3;
        uint256 share = rest * 5_000 / 10_000;
        vm.expectEmit(address(market));
        emit IStreamMarket.DisputeResolved(disputeId, id, p0, false, 0, 3, COLLATERAL, rewardEach, rest - share, 0);
        vm.expectEmit(address(market));
        emit IStreamMarket.DisputerRewarded(disputeId, stranger, BOND, share);
        market.finalizeDispute(disputeId);
        vm.assertEq(token.balanceOf(stranger) - strangerBefore, BOND + share, "bond back + half the rest");
        vm.assertEq(token.balanceOf(client) - clientBefore, rest - share, "the client: the other half");
        vm.assertEq(token.balanceOf(address(market)), DEPOSIT, "only the deposit stays");
    }

    function test_valid_aDisputerOfHonestWorkLosesItsBond() public {
        uint256 disputeId = _disputeAs(stranger, p0, "honest");
        _voteAll(disputeId, true);
        uint256 strangerBefore = token.balanceOf(stranger);
        uint256 p0Before = token.balanceOf(p0);
        uint256 rewardEach = BOND * 5_000 / 10_000 / 3;
        market.finalizeDispute(disputeId);
        vm.assertEq(token.balanceOf(stranger), strangerBefore, "nothing back");
        vm.assertEq(token.balanceOf(p0) - p0Before, BOND - rewardEach * 3, "the bond's rest to the accused");
        vm.assertEq(_staked(p0), STAKE, "the accused keeps its stake");
        vm.assertEq(uint8(market.getDispute(disputeId).state), uint8(IStreamMarket.DisputeState.Valid));
    }
}
