// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IVerdictRound} from "../interfaces/IVerdictRound.sol";

/// @title VerdictRound
/// @notice A reusable commit-reveal verdict round: a fixed set of seats (at most 16) commit a
///         hidden accept/reject verdict and reveal it. A verdict wins only with a strict majority
///         of the SEATS (more than seats / 2 reveals of it); when neither has one (a tie, too few
///         reveals, silence), the host's default outcome stands. See {IVerdictRound} for the
///         timeline, the commitment scheme and the errors.
/// @dev The host contract keeps a {Rounds} in storage, names each round by a `roundId` it
///      chooses (used once), maps accounts to seats, checks who may vote, and settles the
///      outcome (payments, slashes): this library only enforces the phases, the one vote per
///      seat and the commitments. All functions are internal (inlined into the host), so the
///      host's ABI carries the IVerdictRound errors. A round is one storage slot plus one slot
///      per commitment.
library VerdictRound {
    /// @notice The most seats a round can have (the bitmasks are 16 bits).
    uint256 internal constant MAX_SEATS = 16;

    /// @notice Lifecycle of a round.
    enum State {
        None, // never opened
        Open, // commit and reveal phases
        Accepted, // closed: approvals > seats / 2, or no majority and the host's default is accept
        Rejected, // closed: rejections > seats / 2, or no majority and the host's default is reject
        Cancelled // dropped by the host (e.g. the task was confirmed by its client)
    }

    /// @notice One round, packed in one slot.
    /// @param openedBlock The block the round was opened in (TaskMarket: the sampling seed block).
    /// @param openedAt The timestamp it was opened at.
    /// @param commitEnd End of the commit phase (exclusive).
    /// @param revealEnd End of the reveal phase (exclusive).
    /// @param seats Number of seats (voters), 1..16.
    /// @param state The round's state.
    /// @param committed Bit s set: seat s has committed.
    /// @param revealed Bit s set: seat s has revealed.
    /// @param accepts Bit s set: seat s revealed "accept" (only meaningful where `revealed` is set).
    struct Round {
        uint64 openedBlock;
        uint40 openedAt;
        uint40 commitEnd;
        uint40 revealEnd;
        uint8 seats;
        State state;
        uint16 committed;
        uint16 revealed;
        uint16 accepts;
    }

    /// @notice A host's rounds and their commitments.
    struct Rounds {
        mapping(uint256 roundId => Round) rounds;
        mapping(uint256 roundId => mapping(uint256 seat => bytes32)) commitments;
    }

    /// @notice Opens round `roundId` now: commit phase [now, now + commitWindow), reveal phase
    ///         up to commitEnd + revealWindow.
    /// @dev Reverts VerdictRoundInvalidSeats, VerdictRoundAlreadyOpened. The host bounds the
    ///      windows (the sums must fit in uint40).
    /// @return r The new round.
    function open(Rounds storage self, uint256 roundId, uint256 seats, uint256 commitWindow, uint256 revealWindow)
        internal
        returns (Round memory r)
    {
        if (seats == 0 || seats > MAX_SEATS) revert IVerdictRound.VerdictRoundInvalidSeats(roundId, seats, MAX_SEATS);
        Round storage s = self.rounds[roundId];
        if (s.state != State.None) revert IVerdictRound.VerdictRoundAlreadyOpened(roundId);
        uint256 commitEnd = block.timestamp + commitWindow;
        r = Round({
            openedBlock: uint64(block.number),
            openedAt: uint40(block.timestamp),
            commitEnd: uint40(commitEnd),
            revealEnd: uint40(commitEnd + revealWindow),
            seats: uint8(seats),
            state: State.Open,
            committed: 0,
            revealed: 0,
            accepts: 0
        });
        self.rounds[roundId] = r;
    }

    /// @notice Records `voter`'s commitment for `seat`.
    /// @dev Reverts VerdictRoundNotOpen, VerdictRoundInvalidSeat, VerdictRoundCommitClosed,
    ///      VerdictRoundAlreadyCommitted.
    function commit(Rounds storage self, uint256 roundId, uint256 seat, address voter, bytes32 commitment) internal {
        Round storage s = self.rounds[roundId];
        Round memory r = s;
        _checkSeat(r, roundId, seat);
        if (block.timestamp >= r.commitEnd) revert IVerdictRound.VerdictRoundCommitClosed(roundId, r.commitEnd);
        uint16 bit = uint16(1 << seat);
        if (r.committed & bit != 0) revert IVerdictRound.VerdictRoundAlreadyCommitted(roundId, voter);
        s.committed = r.committed | bit;
        self.commitments[roundId][seat] = commitment;
    }

    /// @notice Reveals `voter`'s verdict for `seat`; it must match the commitment.
    /// @dev Reverts VerdictRoundNotOpen, VerdictRoundInvalidSeat, VerdictRoundRevealNotStarted,
    ///      VerdictRoundRevealClosed, VerdictRoundNotCommitted, VerdictRoundAlreadyRevealed,
    ///      VerdictRoundCommitmentMismatch.
    function reveal(Rounds storage self, uint256 roundId, uint256 seat, address voter, bool accept, bytes32 salt)
        internal
    {
        Round storage s = self.rounds[roundId];
        Round memory r = s;
        _checkSeat(r, roundId, seat);
        if (block.timestamp < r.commitEnd && r.committed != fullMask(r.seats)) {
            revert IVerdictRound.VerdictRoundRevealNotStarted(roundId, r.commitEnd);
        }
        if (block.timestamp >= r.revealEnd) revert IVerdictRound.VerdictRoundRevealClosed(roundId, r.revealEnd);
        uint16 bit = uint16(1 << seat);
        if (r.committed & bit == 0) revert IVerdictRound.VerdictRoundNotCommitted(roundId, voter);
        if (r.revealed & bit != 0) revert IVerdictRound.VerdictRoundAlreadyRevealed(roundId, voter);
        bytes32 committed = self.commitments[roundId][seat];
        bytes32 revealed = commitmentOf(roundId, accept, salt, voter);
        if (committed != revealed) {
            revert IVerdictRound.VerdictRoundCommitmentMismatch(roundId, voter, committed, revealed);
        }
        s.revealed = r.revealed | bit;
        if (accept) s.accepts = r.accepts | bit;
    }

    /// @notice Closes the round and returns its outcome: the verdict revealed by a strict majority
    ///         of the seats (more than `seats / 2`), else `acceptWithoutMajority`. Seats that did
    ///         not reveal count for neither side, so silence can never make a majority.
    /// @dev Reverts VerdictRoundNotOpen, VerdictRoundNotOver. At most one side can hold a strict
    ///      majority (approvals + rejections <= seats).
    /// @param acceptWithoutMajority The outcome when neither verdict has a majority of the seats:
    ///        the side that carries the burden of proof loses. TaskMarket passes false (the
    ///        executor must convince its council), StreamMarket passes true (the disputer must).
    /// @return r The round as closed (state Accepted or Rejected).
    /// @return approvals Revealed "accept" verdicts.
    /// @return rejections Revealed "reject" verdicts.
    function close(Rounds storage self, uint256 roundId, bool acceptWithoutMajority)
        internal
        returns (Round memory r, uint256 approvals, uint256 rejections)
    {
        Round storage s = self.rounds[roundId];
        r = s;
        if (r.state != State.Open) revert IVerdictRound.VerdictRoundNotOpen(roundId);
        if (block.timestamp < r.revealEnd && r.revealed != fullMask(r.seats)) {
            revert IVerdictRound.VerdictRoundNotOver(roundId, r.revealEnd);
        }
        approvals = popCount(r.revealed & r.accepts);
        rejections = popCount(r.revealed & ~r.accepts);
        r.state = outcome(r.seats, approvals, rejections, acceptWithoutMajority) ? State.Accepted : State.Rejected;
        s.state = r.state;
    }

    /// @notice The rule of {close}: true (accept) iff approvals > seats / 2, or neither side has
    ///         more than seats / 2 and `acceptWithoutMajority`.
    function outcome(uint256 seats, uint256 approvals, uint256 rejections, bool acceptWithoutMajority)
        internal
        pure
        returns (bool)
    {
        uint256 half = seats / 2;
        if (approvals > half) return true;
        if (rejections > half) return false;
        return acceptWithoutMajority;
    }

    /// @notice Drops an open round without an outcome.
    /// @dev Reverts VerdictRoundNotOpen.
    function cancel(Rounds storage self, uint256 roundId) internal {
        Round storage s = self.rounds[roundId];
        if (s.state != State.Open) revert IVerdictRound.VerdictRoundNotOpen(roundId);
        s.state = State.Cancelled;
    }

    /// @notice The round `roundId` (all zero if never opened).
    function get(Rounds storage self, uint256 roundId) internal view returns (Round memory) {
        return self.rounds[roundId];
    }

    /// @notice The commitment recorded for `seat` (zero if none).
    function commitmentAt(Rounds storage self, uint256 roundId, uint256 seat) internal view returns (bytes32) {
        return self.commitments[roundId][seat];
    }

    /// @notice The commitment a voter must submit:
    ///         keccak256(abi.encode(block.chainid, address(this), roundId, accept, salt, voter)).
    function commitmentOf(uint256 roundId, bool accept, bytes32 salt, address voter) internal view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), roundId, accept, salt, voter));
    }

    /// @notice The mask with one bit per seat.
    function fullMask(uint256 seats) internal pure returns (uint16) {
        return uint16((1 << seats) - 1);
    }

    /// @notice Number of set bits.
    function popCount(uint16 mask) internal pure returns (uint256 n) {
        uint256 m = mask;
        while (m != 0) {
            m &= m - 1;
            ++n;
        }
    }

    function _checkSeat(Round memory r, uint256 roundId, uint256 seat) private pure {
        if (r.state != State.Open) revert IVerdictRound.VerdictRoundNotOpen(roundId);
        if (seat >= r.seats) revert IVerdictRound.VerdictRoundInvalidSeat(roundId, seat, r.seats);
    }
}
