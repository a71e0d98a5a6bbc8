// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {VerdictRound} from "../../src/libraries/VerdictRound.sol";
import {IVerdictRound} from "../../src/interfaces/IVerdictRound.sol";

/// @notice Exposes the library on one Rounds store, as a host contract would.
contract VerdictRoundHarness {
    using VerdictRound for VerdictRound.Rounds;

    VerdictRound.Rounds internal rounds;

    function open(uint256 id, uint256 seats, uint256 commitWindow, uint256 revealWindow)
        external
        returns (VerdictRound.Round memory)
    {
        return rounds.open(id, seats, commitWindow, revealWindow);
    }

    function commit(uint256 id, uint256 seat, address voter, bytes32 c) external {
        rounds.commit(id, seat, voter, c);
    }

    function reveal(uint256 id, uint256 seat, address voter, bool accept, bytes32 salt) external {
        rounds.reveal(id, seat, voter, accept, salt);
    }

    function close(uint256 id, bool acceptWithoutMajority)
        external
        returns (VerdictRound.Round memory r, uint256 approvals, uint256 rejections)
    {
        return rounds.close(id, acceptWithoutMajority);
    }

    function outcome(uint256 seats, uint256 approvals, uint256 rejections, bool acceptWithoutMajority)
        external
        pure
        returns (bool)
    {
        return VerdictRound.outcome(seats, approvals, rejections, acceptWithoutMajority);
    }

    function cancel(uint256 id) external {
        rounds.cancel(id);
    }

    function get(uint256 id) external view returns (VerdictRound.Round memory) {
        return rounds.get(id);
    }

    function commitmentAt(uint256 id, uint256 seat) external view returns (bytes32) {
        return rounds.commitmentAt(id, seat);
    }

    function commitmentOf(uint256 id, bool accept, bytes32 salt, address voter) external view returns (bytes32) {
        return VerdictRound.commitmentOf(id, accept, salt, voter);
    }

    function popCount(uint16 mask) external pure returns (uint256) {
        return VerdictRound.popCount(mask);
    }
}

contract VerdictRoundTest is Test {
    VerdictRoundHarness internal h;
    uint256 internal constant ID = 7;
    uint256 internal constant T0 = 1_700_000_000;

    function setUp() public {
        vm.warp(T0);
        vm.roll(100);
        h = new VerdictRoundHarness();
    }

    function _voter(uint256 seat) internal pure returns (address) {
        return address(uint160(0x1000 + seat));
    }

    function _commit(uint256 id, uint256 seat, bool accept) internal {
        h.commit(id, seat, _voter(seat), h.commitmentOf(id, accept, bytes32(seat), _voter(seat)));
    }

    function _reveal(uint256 id, uint256 seat, bool accept) internal {
        h.reveal(id, seat, _voter(seat), accept, bytes32(seat));
    }

    function test_open_setsRound() public {
        VerdictRound.Round memory r = h.open(ID, 3, 60, 120);
        vm.assertEq(r.openedBlock, 100);
        vm.assertEq(r.openedAt, T0);
        vm.assertEq(r.commitEnd, T0 + 60);
        vm.assertEq(r.revealEnd, T0 + 180);
        vm.assertEq(r.seats, 3);
        vm.assertEq(uint8(r.state), uint8(VerdictRound.State.Open));
        vm.assertEq(keccak256(abi.encode(h.get(ID))), keccak256(abi.encode(r)));
    }

    function test_open_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundInvalidSeats.selector, ID, 0, 16));
        h.open(ID, 0, 60, 60);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundInvalidSeats.selector, ID, 17, 16));
        h.open(ID, 17, 60, 60);
        h.open(ID, 1, 60, 60);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundAlreadyOpened.selector, ID));
        h.open(ID, 1, 60, 60);
        // closed or cancelled ids stay used
        h.cancel(ID);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundAlreadyOpened.selector, ID));
        h.open(ID, 1, 60, 60);
    }

    function test_sixteenSeats_allAcceptEarlyClose() public {
        h.open(ID, 16, 60, 60);
        for (uint256 s; s < 16; ++s) {
            _commit(ID, s, s % 3 != 0);
        }
        for (uint256 s; s < 16; ++s) {
            _reveal(ID, s, s % 3 != 0);
        }
        (VerdictRound.Round memory r, uint256 a, uint256 rej) = h.close(ID, false); // everyone revealed: early
        vm.assertEq(a, 10);
        vm.assertEq(rej, 6);
        vm.assertEq(uint8(r.state), uint8(VerdictRound.State.Accepted));
        vm.assertEq(r.committed, type(uint16).max);
        vm.assertEq(r.revealed, type(uint16).max);
    }

    function test_commit_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundNotOpen.selector, ID));
        h.commit(ID, 0, _voter(0), bytes32(uint256(1)));
        h.open(ID, 2, 60, 60);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundInvalidSeat.selector, ID, 2, 2));
        h.commit(ID, 2, _voter(2), bytes32(uint256(1)));
        _commit(ID, 0, true);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundAlreadyCommitted.selector, ID, _voter(0)));
        h.commit(ID, 0, _voter(0), bytes32(uint256(2)));
        vm.warp(T0 + 60);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundCommitClosed.selector, ID, uint64(T0 + 60)));
        h.commit(ID, 1, _voter(1), bytes32(uint256(2)));
    }

    function test_reveal_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundNotOpen.selector, ID));
        _reveal(ID, 0, true);
        h.open(ID, 2, 60, 60);
        _commit(ID, 0, true);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundRevealNotStarted.selector, ID, uint64(T0 + 60)));
        _reveal(ID, 0, true);
        vm.warp(T0 + 60);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundInvalidSeat.selector, ID, 5, 2));
        h.reveal(ID, 5, _voter(5), true, 0);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundNotCommitted.selector, ID, _voter(1)));
        _reveal(ID, 1, true);
        bytes32 committed = h.commitmentAt(ID, 0);
        bytes32 wrong = h.commitmentOf(ID, false, bytes32(uint256(0)), _voter(0));
        vm.expectRevert(
            abi.encodeWithSelector(IVerdictRound.VerdictRoundCommitmentMismatch.selector, ID, _voter(0), committed, wrong)
        );
        _reveal(ID, 0, false);
        _reveal(ID, 0, true);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundAlreadyRevealed.selector, ID, _voter(0)));
        _reveal(ID, 0, true);
        vm.warp(T0 + 120);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundRevealClosed.selector, ID, uint64(T0 + 120)));
        _reveal(ID, 0, true);
    }

    function test_close_outcomes() public {
        // 0 reveals: no majority, so the host's default decides (reject for a batch checkpoint,
        // valid for a stream dispute)
        h.open(1, 3, 60, 60);
        vm.warp(T0 + 120);
        (VerdictRound.Round memory r, uint256 a, uint256 rej) = h.close(1, false);
        vm.assertEq(uint8(r.state), uint8(VerdictRound.State.Rejected), "silence does not accept");
        vm.assertEq(a + rej, 0);
        vm.warp(T0);
        h.open(5, 3, 60, 60);
        vm.warp(T0 + 120);
        (r,,) = h.close(5, true);
        vm.assertEq(uint8(r.state), uint8(VerdictRound.State.Accepted), "silence does not reject");
        // 1 - 2 of 4 seats: no majority of the seats (a committed-only seat does not count)
        vm.warp(T0);
        h.open(2, 4, 60, 60);
        _commit(2, 0, true);
        _commit(2, 1, false);
        _commit(2, 2, false);
        _commit(2, 3, true);
        vm.warp(T0 + 60);
        _reveal(2, 0, true);
        _reveal(2, 1, false);
        _reveal(2, 2, false);
        vm.warp(T0 + 120);
        (r, a, rej) = h.close(2, true);
        vm.assertEq(uint8(r.state), uint8(VerdictRound.State.Accepted), "2 of 4 is no majority");
        vm.assertEq(a, 1);
        vm.assertEq(rej, 2);
        vm.assertEq(uint8(h.get(2).state), uint8(VerdictRound.State.Accepted));
        // 1 - 2 of 3 seats: a majority rejects, whatever the default
        vm.warp(T0);
        h.open(3, 3, 60, 60);
        _commit(3, 0, true);
        _commit(3, 1, false);
        _commit(3, 2, false);
        vm.warp(T0 + 60);
        _reveal(3, 0, true);
        _reveal(3, 1, false);
        _reveal(3, 2, false);
        (r, a, rej) = h.close(3, true);
        vm.assertEq(uint8(r.state), uint8(VerdictRound.State.Rejected), "2 of 3 reject");
    }

    /// @notice A tie of the revealed verdicts, and a lone accept among silent seats, never accept
    ///         by default; a strict majority of the seats is needed.
    function test_close_tieAndMinorityDoNotAccept() public {
        // 1 - 1 of 2 seats
        h.open(1, 2, 60, 60);
        _commit(1, 0, true);
        _commit(1, 1, false);
        _reveal(1, 0, true);
        _reveal(1, 1, false);
        (VerdictRound.Round memory r, uint256 a, uint256 rej) = h.close(1, false);
        vm.assertEq(uint8(r.state), uint8(VerdictRound.State.Rejected), "tie");
        vm.assertEq(a, 1);
        vm.assertEq(rej, 1);
        // 1 - 0 of 3 seats (two silent)
        h.open(2, 3, 60, 60);
        _commit(2, 0, true);
        vm.warp(T0 + 60);
        _reveal(2, 0, true);
        vm.warp(T0 + 120);
        (r, a, rej) = h.close(2, false);
        vm.assertEq(uint8(r.state), uint8(VerdictRound.State.Rejected), "1 of 3");
        vm.assertEq(a, 1);
        vm.assertEq(rej, 0);
    }

    /// @notice The rule itself, exhaustively for every seat count: a side wins with more than
    ///         seats / 2 votes, else the default.
    function test_outcome_strictMajorityOfSeats() public view {
        for (uint256 seats = 1; seats <= 16; ++seats) {
            for (uint256 a; a <= seats; ++a) {
                for (uint256 r; a + r <= seats; ++r) {
                    bool expected = 2 * a > seats ? true : 2 * r > seats ? false : true;
                    vm.assertEq(h.outcome(seats, a, r, true), expected);
                    expected = 2 * a > seats;
                    vm.assertEq(h.outcome(seats, a, r, false), expected);
                }
            }
        }
    }

    function test_close_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundNotOpen.selector, ID));
        h.close(ID, false);
        h.open(ID, 2, 60, 60);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundNotOver.selector, ID, uint64(T0 + 120)));
        h.close(ID, false);
        vm.warp(T0 + 120);
        h.close(ID, false);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundNotOpen.selector, ID));
        h.close(ID, false);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundNotOpen.selector, ID));
        h.cancel(ID);
    }

    function test_cancel_stopsTheRound() public {
        h.open(ID, 2, 60, 60);
        _commit(ID, 0, true);
        h.cancel(ID);
        vm.assertEq(uint8(h.get(ID).state), uint8(VerdictRound.State.Cancelled));
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundNotOpen.selector, ID));
        h.commit(ID, 1, _voter(1), bytes32(uint256(2)));
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundNotOpen.selector, ID));
        h.close(ID, false);
    }

    function test_commitment_bindsHostAndChain() public {
        VerdictRoundHarness other = new VerdictRoundHarness();
        bytes32 c = h.commitmentOf(ID, true, bytes32("s"), _voter(0));
        vm.assertEq(c, keccak256(abi.encode(block.chainid, address(h), ID, true, bytes32("s"), _voter(0))));
        vm.assertNotEq(c, other.commitmentOf(ID, true, bytes32("s"), _voter(0)), "another host contract");
    }

    function testFuzz_popCount(uint16 mask) public view {
        uint256 n;
        for (uint256 i; i < 16; ++i) {
            if (mask & (1 << i) != 0) ++n;
        }
        vm.assertEq(h.popCount(mask), n);
    }

    /// @notice Fuzzed votes, timing and default: the outcome is the side revealed by more than
    ///         half the seats, else the default.
    function testFuzz_majorityOfSeats(uint8 seats, uint16 commits, uint16 reveals, uint16 accepts, bool dflt)
        public
    {
        uint256 n = bound(seats, 1, 16);
        h.open(ID, n, 60, 60);
        for (uint256 s; s < n; ++s) {
            if (commits & (1 << s) != 0) _commit(ID, s, accepts & (1 << s) != 0);
        }
        vm.warp(T0 + 60);
        uint256 a;
        uint256 r;
        for (uint256 s; s < n; ++s) {
            if (commits & reveals & (1 << s) != 0) {
                bool yes = accepts & (1 << s) != 0;
                _reveal(ID, s, yes);
                if (yes) ++a;
                else ++r;
            }
        }
        vm.warp(T0 + 120);
        (VerdictRound.Round memory round, uint256 approvals, uint256 rejections) = h.close(ID, dflt);
        vm.assertEq(approvals, a);
        vm.assertEq(rejections, r);
        bool accepted = 2 * a > n || (2 * r <= n && dflt);
        vm.assertEq(round.state == VerdictRound.State.Accepted, accepted);
    }
}
