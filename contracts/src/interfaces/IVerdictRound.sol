// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IVerdictRound
/// @notice Errors of a commit-reveal verdict round ({VerdictRound}), shared by the markets that
///         run one: TaskMarket (one round per checkpoint) and, later, StreamMarket (disputes).
///
/// A round has `seats` voters (at most 16), numbered 0..seats-1 by the host contract, which
/// maps accounts to seats and decides who may vote. Timeline, with `openedAt` the opening
/// block's timestamp:
///   - commit phase: openedAt <= now < commitEnd. Each seat commits once
///     `commitment = keccak256(abi.encode(block.chainid, address(host), roundId, accept, salt, voter))`
///     (`bool accept`, `bytes32 salt`, `address voter`): binding chain, contract and round means a
///     commitment can neither be replayed in another round nor copied by another voter.
///   - reveal phase: from commitEnd (or as soon as every seat has committed) while now < revealEnd.
///     A seat reveals (accept, salt) matching its commitment, once.
///   - the round can be closed once now >= revealEnd, or as soon as every seat has revealed.
/// The outcome is the verdict revealed by a strict majority of the SEATS (more than seats / 2):
/// a seat that did not reveal counts for neither side. When neither verdict has one (a tie, a
/// minority among silent seats, no reveals at all), the host's default stands: the side that
/// carries the burden of proof loses (TaskMarket: reject; StreamMarket: the response is valid).
/// So neither a tie nor silence can decide against the host's default, and a council that does
/// not show up cannot accept garbage.
///
/// Every error names the round (`roundId`, chosen by the host: TaskMarket uses
/// `taskId << 8 | checkpoint`).
interface IVerdictRound {
    /// @notice A round was opened with no seats or more than the maximum.
    /// @param roundId The round.
    /// @param seats The rejected number of seats.
    /// @param maxSeats The largest number of seats allowed (16).
    error VerdictRoundInvalidSeats(uint256 roundId, uint256 seats, uint256 maxSeats);

    /// @notice The round was already opened once (a round id is used only once).
    /// @param roundId The round.
    error VerdictRoundAlreadyOpened(uint256 roundId);

    /// @notice The round is not open: never opened, or already closed or cancelled.
    /// @param roundId The round.
    error VerdictRoundNotOpen(uint256 roundId);

    /// @notice The seat does not exist in this round.
    /// @param roundId The round.
    /// @param seat The rejected seat.
    /// @param seats The round's number of seats.
    error VerdictRoundInvalidSeat(uint256 roundId, uint256 seat, uint256 seats);

    /// @notice A commitment came at or after the end of the commit phase.
    /// @param roundId The round.
    /// @param commitEnd When the commit phase ended.
    error VerdictRoundCommitClosed(uint256 roundId, uint64 commitEnd);

    /// @notice The voter already committed in this round.
    /// @param roundId The round.
    /// @param voter The voter.
    error VerdictRoundAlreadyCommitted(uint256 roundId, address voter);

    /// @notice A reveal came before the reveal phase: the commit phase is still running and not
    ///         every seat has committed.
    /// @param roundId The round.
    /// @param commitEnd When the commit phase ends.
    error VerdictRoundRevealNotStarted(uint256 roundId, uint64 commitEnd);

    /// @notice A reveal came at or after the end of the reveal phase.
    /// @param roundId The round.
    /// @param revealEnd When the reveal phase ended.
    error VerdictRoundRevealClosed(uint256 roundId, uint64 revealEnd);

    /// @notice The voter reveals without having committed.
    /// @param roundId The round.
    /// @param voter The voter.
    error VerdictRoundNotCommitted(uint256 roundId, address voter);

    /// @notice The voter already revealed in this round.
    /// @param roundId The round.
    /// @param voter The voter.
    error VerdictRoundAlreadyRevealed(uint256 roundId, address voter);

    /// @notice The revealed verdict and salt do not hash to the voter's commitment.
    /// @param roundId The round.
    /// @param voter The voter.
    /// @param committed The commitment on record.
    /// @param revealed The commitment computed from the reveal.
    error VerdictRoundCommitmentMismatch(uint256 roundId, address voter, bytes32 committed, bytes32 revealed);

    /// @notice The round cannot be closed yet: the reveal phase is running and not every seat
    ///         has revealed.
    /// @param roundId The round.
    /// @param revealEnd When the reveal phase ends.
    error VerdictRoundNotOver(uint256 roundId, uint64 revealEnd);
}
