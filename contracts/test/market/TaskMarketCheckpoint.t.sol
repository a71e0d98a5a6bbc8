// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {MarketFixture} from "../utils/MarketFixture.sol";
import {ITaskMarket} from "../../src/interfaces/ITaskMarket.sol";
import {IVerdictRound} from "../../src/interfaces/IVerdictRound.sol";
import {IProviderRegistry} from "../../src/interfaces/IProviderRegistry.sol";

/// @notice Checkpoints, verdict rounds, finalization and payouts, late penalty, timeouts and
///         confirmation. Default task: 10 items in 2 checkpoints, council 2 (drawn from the
///         pool of providers 1..7), executor provider 0 at 50 oGPU, fee 1 oGPU per vote, collateral 10,
///         escrow 104; non-reveal slash 1 (10%), reject reward 50%.
contract TaskMarketCheckpointTest is MarketFixture {
    uint256 internal constant PRICE = 50e18;
    uint256 internal constant ESCROW = 104e18;

    uint256 internal id;
    address[] internal council;
    address internal executor;

    function setUp() public override {
        super.setUp();
        address[] memory c;
        (id, c) = _assignedTask();
        council = c;
        executor = providers[0];
    }

    function _roundId(uint256 k) internal view returns (uint256) {
        return market.roundIdOf(id, k);
    }

    function _balances() internal view returns (uint256[4] memory b) {
        b[0] = token.balanceOf(client);
        b[1] = token.balanceOf(executor);
        b[2] = token.balanceOf(council[0]);
        b[3] = token.balanceOf(council[1]);
    }

    function _unexpected(uint256 taskId, ITaskMarket.Status s, ITaskMarket.Status e)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(ITaskMarket.TaskMarketUnexpectedStatus.selector, taskId, s, e);
    }

    // ================================================================== commitCheckpoint

    function test_commitCheckpoint_opensRoundAndEmits() public {
        vm.warp(START + 5 minutes);
        uint64 commitEnd = uint64(START + 5 minutes + COMMIT_WINDOW);
        vm.expectEmit(address(market));
        emit ITaskMarket.CheckpointCommitted(id, 0, ROOT, uint64(block.number), commitEnd, commitEnd + REVEAL_WINDOW);
        _commit(id, 0);
        ITaskMarket.Checkpoint memory c = market.checkpointOf(id, 0);
        vm.assertEq(uint8(c.state), uint8(ITaskMarket.CheckpointState.Voting));
        vm.assertEq(c.resultRoot, ROOT);
        vm.assertEq(c.seedBlock, block.number);
        vm.assertEq(c.committedAt, START + 5 minutes);
        vm.assertEq(c.commitEnd, commitEnd);
        vm.assertEq(c.revealEnd, commitEnd + REVEAL_WINDOW);
        vm.assertEq(c.commits, 0);
        vm.assertEq(c.firstItem, 0);
        vm.assertEq(c.itemCount, 5);
        vm.assertEq(c.share, 25e18);
        vm.assertTrue(_task(id).voting);
    }

    function test_sampleSeed_isTheCommitBlockHash() public {
        _commit(id, 0);
        uint256 seedBlock = block.number;
        vm.assertEq(market.sampleSeed(id, 0), bytes32(0), "unknown within the commit's block");
        vm.assertEq(market.memberSampleSeed(id, 0, council[0]), bytes32(0));
        bytes32 h = keccak256("the commit block");
        vm.setBlockhash(seedBlock, h);
        vm.roll(seedBlock + 1);
        vm.assertEq(market.sampleSeed(id, 0), h);
        vm.assertEq(market.memberSampleSeed(id, 0, council[0]), keccak256(abi.encode(h, council[0])));
        vm.assertNotEq(market.memberSampleSeed(id, 0, council[0]), market.memberSampleSeed(id, 0, council[1]));
        vm.roll(seedBlock + 257);
        vm.assertEq(market.sampleSeed(id, 0), bytes32(0), "out of the EVM's 256-block window");
        vm.assertEq(market.sampleSeed(id, 1), bytes32(0), "not committed");
    }

    function test_commitCheckpoint_revertsForNonExecutor() public {
        address[3] memory others = [council[0], stranger, client];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNotExecutor.selector, id, others[i]));
            vm.prank(others[i]);
            market.commitCheckpoint(id, 0, ROOT);
        }
    }

    function test_commitCheckpoint_revertsOutOfOrder() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketWrongCheckpoint.selector, id, 1, 0));
        vm.prank(executor);
        market.commitCheckpoint(id, 1, ROOT);
    }

    function test_commitCheckpoint_revertsWhileVoting() public {
        _commit(id, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketRoundInProgress.selector, id, 0));
        vm.prank(executor);
        market.commitCheckpoint(id, 0, ROOT);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketRoundInProgress.selector, id, 0));
        vm.prank(executor);
        market.commitCheckpoint(id, 1, ROOT);
    }

    function test_commitCheckpoint_revertsAtDeadline() public {
        vm.warp(START + CK_WINDOW - 1);
        _commit(id, 0); // last second is fine
        uint256 id2 = _assignedTaskAt();
        vm.warp(block.timestamp + CK_WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMarket.TaskMarketDeadlinePassed.selector, id2, 0, uint64(block.timestamp)
            )
        );
        vm.prank(executor);
        market.commitCheckpoint(id2, 0, ROOT);
    }

    function _assignedTaskAt() internal returns (uint256 taskId) {
        (taskId,) = _assignedTask();
    }

    function test_commitCheckpoint_revertsOnZeroRoot() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketZeroResultRoot.selector, id, 0));
        vm.prank(executor);
        market.commitCheckpoint(id, 0, bytes32(0));
    }

    function test_commitCheckpoint_revertsWhenNotAssigned() public {
        uint256 open = _submit();
        vm.expectRevert(_unexpected(open, ITaskMarket.Status.Open, ITaskMarket.Status.Assigned));
        vm.prank(executor);
        market.commitCheckpoint(open, 0, ROOT);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketUnknownTask.selector, 99));
        vm.prank(executor);
        market.commitCheckpoint(99, 0, ROOT);
    }

    // ================================================================== commitVerdict

    function test_commitVerdict_recordsAndEmits() public {
        _commit(id, 0);
        bytes32 c = market.verdictCommitment(id, 0, true, _salt(council[1], 0), council[1]);
        vm.expectEmit(address(market));
        emit ITaskMarket.VerdictCommitted(id, 0, council[1], c);
        vm.prank(council[1]);
        market.commitVerdict(id, 0, c);
        ITaskMarket.Verdict memory v = market.verdictOf(id, 0, council[1]);
        vm.assertTrue(v.member);
        vm.assertEq(v.seat, 1);
        vm.assertTrue(v.committed);
        vm.assertFalse(v.revealed);
        vm.assertEq(v.commitment, c);
        vm.assertFalse(market.verdictOf(id, 0, council[0]).committed);
        vm.assertEq(market.checkpointOf(id, 0).commits, 1);
    }

    function test_commitVerdict_revertsForNonMembers() public {
        _commit(id, 0);
        address idle = _outsider(council); // in the pool, not drawn
        address[3] memory others = [executor, stranger, idle];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNotCouncilMember.selector, id, others[i]));
            vm.prank(others[i]);
            market.commitVerdict(id, 0, bytes32(uint256(1)));
        }
    }

    /// @dev A pool member (provider 1..7) that is not in `c`.
    function _outsider(address[] memory c) internal view returns (address) {
        for (uint256 i = 1; i < providers.length; ++i) {
            bool seated;
            for (uint256 s; s < c.length; ++s) {
                if (c[s] == providers[i]) seated = true;
            }
            if (!seated) return providers[i];
        }
        revert("no outsider");
    }

    function test_commitVerdict_releasedBidderIsNotAMember() public {
        uint256 t = _openTaskWithBids(4, true); // council 2 of the pool: the other bidders may be out
        market.assign(t);
        _seat(t);
        vm.prank(providers[0]);
        market.commitCheckpoint(t, 0, ROOT);
        address[] memory c = market.councilOf(t);
        for (uint256 i = 1; i < 4; ++i) {
            address p = providers[i];
            if (p == c[0] || p == c[1]) continue;
            vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNotCouncilMember.selector, t, p));
            vm.prank(p);
            market.commitVerdict(t, 0, bytes32(uint256(1)));
        }
    }

    function test_commitVerdict_revertsWithoutOpenRound() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNoOpenRound.selector, id, 0));
        vm.prank(council[0]);
        market.commitVerdict(id, 0, bytes32(uint256(1)));
        _commit(id, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNoOpenRound.selector, id, 1));
        vm.prank(council[0]);
        market.commitVerdict(id, 1, bytes32(uint256(1)));
    }

    function test_commitVerdict_revertsAfterCommitPhase() public {
        _commit(id, 0);
        vm.warp(START + COMMIT_WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(IVerdictRound.VerdictRoundCommitClosed.selector, _roundId(0), uint64(START + COMMIT_WINDOW))
        );
        vm.prank(council[0]);
        market.commitVerdict(id, 0, bytes32(uint256(1)));
    }

    function test_commitVerdict_revertsOnSecondCommit() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], true);
        vm.expectRevert(
            abi.encodeWithSelector(IVerdictRound.VerdictRoundAlreadyCommitted.selector, _roundId(0), council[0])
        );
        vm.prank(council[0]);
        market.commitVerdict(id, 0, bytes32(uint256(2)));
    }

    function test_commitVerdict_revertsWhenNotAssigned() public {
        uint256 open = _submit();
        vm.expectRevert(_unexpected(open, ITaskMarket.Status.Open, ITaskMarket.Status.Assigned));
        vm.prank(council[0]);
        market.commitVerdict(open, 0, bytes32(uint256(1)));
    }

    // ================================================================== revealVerdict

    function test_revealVerdict_recordsAndEmits() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], false);
        vm.warp(START + COMMIT_WINDOW); // reveal phase
        vm.expectEmit(address(market));
        emit ITaskMarket.VerdictRevealed(id, 0, council[0], false);
        _reveal(id, 0, council[0], false);
        ITaskMarket.Verdict memory v = market.verdictOf(id, 0, council[0]);
        vm.assertTrue(v.revealed);
        vm.assertFalse(v.accept);
        ITaskMarket.Checkpoint memory c = market.checkpointOf(id, 0);
        vm.assertEq(c.reveals, 1);
        vm.assertEq(c.rejections, 1);
        vm.assertEq(c.approvals, 0);
    }

    function test_revealVerdict_startsEarlyOnceAllCommitted() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], true);
        vm.expectRevert(
            abi.encodeWithSelector(
                IVerdictRound.VerdictRoundRevealNotStarted.selector, _roundId(0), uint64(START + COMMIT_WINDOW)
            )
        );
        _reveal(id, 0, council[0], true);
        _commitVote(id, 0, council[1], true);
        _reveal(id, 0, council[0], true); // everyone committed: no need to wait
        vm.assertTrue(market.verdictOf(id, 0, council[0]).accept);
    }

    function test_revealVerdict_revertsAfterRevealPhase() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], true);
        uint64 revealEnd = uint64(START + COMMIT_WINDOW + REVEAL_WINDOW);
        vm.warp(revealEnd);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundRevealClosed.selector, _roundId(0), revealEnd));
        _reveal(id, 0, council[0], true);
    }

    function test_revealVerdict_revertsWithoutCommit() public {
        _commit(id, 0);
        vm.warp(START + COMMIT_WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IVerdictRound.VerdictRoundNotCommitted.selector, _roundId(0), council[0]));
        _reveal(id, 0, council[0], true);
    }

    function test_revealVerdict_revertsOnSecondReveal() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], true);
        _commitVote(id, 0, council[1], true);
        _reveal(id, 0, council[0], true);
        vm.expectRevert(
            abi.encodeWithSelector(IVerdictRound.VerdictRoundAlreadyRevealed.selector, _roundId(0), council[0])
        );
        _reveal(id, 0, council[0], true);
    }

    function test_revealVerdict_revertsOnMismatch() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], true);
        _commitVote(id, 0, council[1], true);
        bytes32 committed = market.verdictCommitment(id, 0, true, _salt(council[0], 0), council[0]);
        // the other verdict
        _expectMismatch(council[0], false, _salt(council[0], 0), committed);
        // a wrong salt
        _expectMismatch(council[0], true, bytes32(0), committed);
    }

    function _expectMismatch(address voter, bool accept, bytes32 salt, bytes32 committed) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                IVerdictRound.VerdictRoundCommitmentMismatch.selector,
                _roundId(0),
                voter,
                committed,
                market.verdictCommitment(id, 0, accept, salt, voter)
            )
        );
        vm.prank(voter);
        market.revealVerdict(id, 0, accept, salt);
    }

    /// @notice A member cannot copy another member's commitment (it binds the voter) nor reuse
    ///         its own commitment from another round (it binds the round).
    /// @notice Council of 3 (so that checkpoint 0 is accepted by the 2 seats that reveal: with
    ///         the default council of 2, the copier's seat cannot reveal and 1 of 2 is no majority).
    function test_revealVerdict_copiedOrReplayedCommitmentsFail() public {
        ITaskMarket.TaskParams memory p = _params();
        p.councilSize = 3;
        (uint256 t, address[] memory c) = _assignedTask(p);
        vm.prank(executor);
        market.commitCheckpoint(t, 0, ROOT);
        bytes32 salt = _salt(c[0], 0);
        bytes32 c0 = market.verdictCommitment(t, 0, true, salt, c[0]);
        vm.prank(c[0]);
        market.commitVerdict(t, 0, c0);
        vm.prank(c[1]);
        market.commitVerdict(t, 0, c0); // copied
        _commitVote(t, 0, c[2], true);
        vm.expectRevert(
            abi.encodeWithSelector(
                IVerdictRound.VerdictRoundCommitmentMismatch.selector,
                market.roundIdOf(t, 0),
                c[1],
                c0,
                market.verdictCommitment(t, 0, true, salt, c[1])
            )
        );
        vm.prank(c[1]);
        market.revealVerdict(t, 0, true, salt);
        _reveal(t, 0, c[0], true);
        _reveal(t, 0, c[2], true);
        vm.warp(START + COMMIT_WINDOW + REVEAL_WINDOW);
        market.finalizeCheckpoint(t, 0);
        vm.assertEq(uint8(market.checkpointOf(t, 0).state), uint8(ITaskMarket.CheckpointState.Accepted));

        // checkpoint 1: c[0] replays its checkpoint-0 commitment
        vm.prank(executor);
        market.commitCheckpoint(t, 1, ROOT);
        vm.prank(c[0]);
        market.commitVerdict(t, 1, c0);
        _commitVote(t, 1, c[1], true);
        _commitVote(t, 1, c[2], true); // every seat committed: the reveal phase starts
        vm.expectRevert(
            abi.encodeWithSelector(
                IVerdictRound.VerdictRoundCommitmentMismatch.selector,
                market.roundIdOf(t, 1),
                c[0],
                c0,
                market.verdictCommitment(t, 1, true, salt, c[0])
            )
        );
        vm.prank(c[0]);
        market.revealVerdict(t, 1, true, salt);
    }

    function test_revealVerdict_revertsForNonMembersAndClosedRounds() public {
        _commit(id, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNotCouncilMember.selector, id, stranger));
        vm.prank(stranger);
        market.revealVerdict(id, 0, true, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNoOpenRound.selector, id, 1));
        vm.prank(council[0]);
        market.revealVerdict(id, 1, true, 0);
    }

    // ================================================================== finalizeCheckpoint: accept

    function test_finalize_acceptPaysShareAndFees() public {
        vm.warp(START + 10 minutes);
        _commit(id, 0);
        uint256[4] memory before = _balances();
        vm.warp(START + 12 minutes);
        uint64 next = uint64(START + 12 minutes + CK_WINDOW);
        for (uint256 i; i < 2; ++i) {
            _commitVote(id, 0, council[i], true);
        }
        _reveal(id, 0, council[0], true);
        _reveal(id, 0, council[1], true);
        vm.expectEmit(address(market));
        emit ITaskMarket.CheckpointFinalized(id, 0, true, 2, 0, 25e18, 0, 1e18, next);
        market.finalizeCheckpoint(id, 0); // early: everyone revealed
        uint256[4] memory afterB = _balances();
        vm.assertEq(afterB[1] - before[1], 25e18, "executor: half the price");
        vm.assertEq(afterB[2] - before[2], 1e18, "voter fee");
        vm.assertEq(afterB[3] - before[3], 1e18, "voter fee");
        vm.assertEq(afterB[0], before[0], "client untouched");
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(t.escrow, ESCROW - 27e18);
        vm.assertEq(t.nextCheckpoint, 1);
        vm.assertFalse(t.voting);
        vm.assertEq(t.deadline, next);
        vm.assertEq(uint8(t.status), uint8(ITaskMarket.Status.Assigned));
        ITaskMarket.Checkpoint memory c = market.checkpointOf(id, 0);
        vm.assertEq(uint8(c.state), uint8(ITaskMarket.CheckpointState.Accepted));
        vm.assertEq(c.approvals, 2);
        // collateral stays locked until the end
        vm.assertEq(_locked(executor), COLLATERAL);
        vm.assertEq(_locked(council[0]), COLLATERAL);
    }

    function test_finalize_lastCheckpointFinalizesAndRefunds() public {
        _commit(id, 0);
        _passCheckpoint(id, 0, council, true);
        _commit(id, 1);
        uint256 clientBefore = token.balanceOf(client);
        for (uint256 i; i < 2; ++i) {
            _commitVote(id, 1, council[i], true);
        }
        _reveal(id, 1, council[0], true);
        _reveal(id, 1, council[1], true);
        vm.expectEmit(address(market));
        emit ITaskMarket.CheckpointFinalized(id, 1, true, 2, 0, 25e18, 0, 1e18, 0);
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskFinalized(id, false, 0, 50e18);
        market.finalizeCheckpoint(id, 1);
        vm.assertEq(token.balanceOf(client) - clientBefore, 50e18, "maxPrice - price");
        vm.assertEq(token.balanceOf(executor), FUNDS - STAKE + PRICE);
        vm.assertEq(token.balanceOf(council[0]), FUNDS - STAKE + 2e18);
        vm.assertEq(token.balanceOf(address(market)), 0);
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(uint8(t.status), uint8(ITaskMarket.Status.Finalized));
        vm.assertEq(t.escrow, 0);
        vm.assertEq(t.nextCheckpoint, 2);
        for (uint256 i; i < 3; ++i) {
            vm.assertEq(_locked(providers[i]), 0);
            vm.assertEq(market.lockedFor(id, providers[i]), 0);
        }
    }

    /// @notice Council of 3: 2 accept, the third never reveals; the round closes at revealEnd and
    ///         2 of 3 seats is a majority. (Was council 2 with 1 accept: under the old rule a lone
    ///         accept among silent seats accepted; now it is no majority.)
    function test_finalize_afterRevealPhaseWithoutEveryone() public {
        ITaskMarket.TaskParams memory p = _params();
        p.councilSize = 3;
        (uint256 t, address[] memory c) = _assignedTask(p);
        vm.prank(executor);
        market.commitCheckpoint(t, 0, ROOT);
        _commitVote(t, 0, c[0], true);
        _commitVote(t, 0, c[1], true);
        uint64 revealEnd = uint64(START + COMMIT_WINDOW + REVEAL_WINDOW);
        vm.warp(START + COMMIT_WINDOW);
        _reveal(t, 0, c[0], true);
        _reveal(t, 0, c[1], true);
        vm.warp(revealEnd - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IVerdictRound.VerdictRoundNotOver.selector, market.roundIdOf(t, 0), revealEnd)
        );
        market.finalizeCheckpoint(t, 0);
        vm.warp(revealEnd);
        market.finalizeCheckpoint(t, 0);
        vm.assertEq(uint8(market.checkpointOf(t, 0).state), uint8(ITaskMarket.CheckpointState.Accepted));
    }

    /// @notice 1 accept, 1 reject of 2 seats: a tie is no majority. The round is undecided: no
    ///         fee, no slash of the executor; the council is released and a fresh one is drawn
    ///         (once) in a later block; it judges the same root and accepts.
    function test_finalize_tieRedrawsOnce() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], true);
        _commitVote(id, 0, council[1], false);
        _reveal(id, 0, council[0], true);
        _reveal(id, 0, council[1], false);
        uint256[4] memory before = _balances();
        uint256 firstRound = market.roundIdOf(id, 0);
        vm.expectEmit(address(market));
        emit ITaskMarket.CouncilRedrawn(id, 0, 1, 1, block.number);
        market.finalizeCheckpoint(id, 0);
        uint256[4] memory afterB = _balances();
        for (uint256 i; i < 4; ++i) {
            vm.assertEq(afterB[i], before[i], "nobody paid, nobody slashed");
        }
        vm.assertEq(_staked(executor), STAKE);
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(uint8(t.status), uint8(ITaskMarket.Status.Assigned));
        vm.assertFalse(t.councilSeated);
        vm.assertTrue(t.voting, "the root stays committed");
        vm.assertEq(t.councilCount, 0);
        vm.assertEq(market.lockedFor(id, council[0]), 0, "old council released");
        vm.assertFalse(market.verdictOf(id, 0, council[0]).member);
        vm.assertEq(market.roundIdOf(id, 0), firstRound | 0x80, "a new round id");
        // nothing moves until a new council is seated
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketCouncilNotSeated.selector, id));
        market.finalizeCheckpoint(id, 0);

        uint256 drawBlock = block.number;
        vm.roll(drawBlock + 1);
        address[] memory fresh = _expectedCouncil(id, drawBlock);
        vm.expectEmit(address(market));
        emit ITaskMarket.CouncilSeated(id, 0, fresh, drawBlock, 0);
        vm.expectEmit(address(market));
        emit ITaskMarket.CheckpointCommitted(
            id, 0, ROOT, uint64(block.number), uint64(block.timestamp + COMMIT_WINDOW),
            uint64(block.timestamp + COMMIT_WINDOW + REVEAL_WINDOW)
        );
        market.seatCouncil(id);
        vm.assertEq(market.checkpointOf(id, 0).resultRoot, ROOT);
        _passCheckpoint(id, 0, fresh, true);
        vm.assertEq(uint8(market.checkpointOf(id, 0).state), uint8(ITaskMarket.CheckpointState.Accepted));
        vm.assertEq(_task(id).nextCheckpoint, 1);
    }

    /// @notice Nobody reveals, twice: both councils' seats are slashed 1 oGPU each (to the
    ///         client, as non-revealers), and the checkpoint fails Undecided with the executor
    ///         NOT slashed (its collateral released, TaskFailed says 0 slashed): silence proves no
    ///         fault of the executor. The client gets its escrow back and what the silent seats
    ///         lost; nobody earns a fee.
    function test_finalize_silenceTwiceSlashesOnlySilentSeats() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], true); // committed but never revealed
        vm.warp(START + COMMIT_WINDOW + REVEAL_WINDOW);
        uint256 clientBefore = token.balanceOf(client);
        uint256 executorBalance = token.balanceOf(executor);
        vm.expectEmit(address(market));
        emit ITaskMarket.VoterSlashed(id, 0, council[0], 1e18);
        vm.expectEmit(address(market));
        emit ITaskMarket.VoterSlashed(id, 0, council[1], 1e18);
        vm.expectEmit(address(market));
        emit ITaskMarket.CouncilRedrawn(id, 0, 0, 0, block.number);
        market.finalizeCheckpoint(id, 0);
        vm.assertEq(_staked(executor), STAKE, "not slashed after one silent council");

        address[] memory second = _seat(id);
        vm.warp(block.timestamp + COMMIT_WINDOW + REVEAL_WINDOW);
        vm.expectEmit(address(market));
        emit ITaskMarket.VoterSlashed(id, 0, second[0], 1e18);
        vm.expectEmit(address(market));
        emit ITaskMarket.VoterSlashed(id, 0, second[1], 1e18);
        vm.expectEmit(address(market));
        emit ITaskMarket.CheckpointFinalized(id, 0, false, 0, 0, 0, 0, 0, 0);
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskFailed(id, 0, ITaskMarket.FailReason.Undecided, 0, 0, 0, ESCROW);
        market.finalizeCheckpoint(id, 0);
        vm.assertEq(token.balanceOf(client) - clientBefore, 4e18 + ESCROW, "4 non-reveal slashes and the escrow");
        vm.assertEq(_staked(executor), STAKE, "the executor keeps its stake");
        vm.assertEq(_locked(executor), 0, "and its collateral is released");
        vm.assertEq(token.balanceOf(executor), executorBalance, "paid nothing for the failed checkpoint");
        for (uint256 s; s < 2; ++s) {
            vm.assertEq(market.lockedFor(id, second[s]), 0);
            vm.assertLe(_staked(second[s]), STAKE - 1e18, "a silent seat of the second council");
        }
        uint256 lost;
        for (uint256 i; i < providers.length; ++i) {
            vm.assertEq(market.lockedFor(id, providers[i]), 0);
            lost += STAKE - _staked(providers[i]);
        }
        vm.assertEq(lost, 4e18, "only the 4 silent seats lost stake, 1 oGPU each");
        vm.assertEq(token.balanceOf(address(market)), 0);
        vm.assertEq(uint8(_task(id).status), uint8(ITaskMarket.Status.Failed));
    }

    /// @notice 1 accept, 1 reject in a council of 2, and again 1-1 in the re-drawn council of 2:
    ///         twice undecided. The task fails Undecided and nobody is slashed: every voter
    ///         revealed, the executor keeps its stake (collateral released), no fee is paid to
    ///         anyone, and the client gets its whole escrow back.
    function test_finalize_tieTwiceSlashesNobody() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], true);
        _commitVote(id, 0, council[1], false);
        _reveal(id, 0, council[0], true);
        _reveal(id, 0, council[1], false);
        market.finalizeCheckpoint(id, 0);
        address[] memory second = _seat(id);
        _commitVote(id, 0, second[0], true);
        _commitVote(id, 0, second[1], false);
        _reveal(id, 0, second[0], true);
        _reveal(id, 0, second[1], false);

        uint256 clientBefore = token.balanceOf(client);
        uint256 executorBalance = token.balanceOf(executor);
        vm.expectEmit(address(market));
        emit ITaskMarket.CheckpointFinalized(id, 0, false, 1, 1, 0, 0, 0, 0);
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskFailed(id, 0, ITaskMarket.FailReason.Undecided, 0, 0, 0, ESCROW);
        market.finalizeCheckpoint(id, 0);
        vm.assertEq(token.balanceOf(client) - clientBefore, ESCROW, "the whole escrow back");
        vm.assertEq(_staked(executor), STAKE, "executor not slashed");
        vm.assertEq(_locked(executor), 0, "executor released");
        vm.assertEq(token.balanceOf(executor), executorBalance, "executor unpaid");
        for (uint256 i; i < providers.length; ++i) {
            vm.assertEq(_staked(providers[i]), STAKE, "nobody slashed");
            vm.assertEq(_locked(providers[i]), 0, "nothing locked");
            vm.assertEq(token.balanceOf(providers[i]), FUNDS - STAKE, "no fee to anyone");
        }
        vm.assertEq(token.balanceOf(address(market)), 0);
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(uint8(t.status), uint8(ITaskMarket.Status.Failed));
        vm.assertEq(t.escrow, 0);
    }

    /// @notice A lone accept among silent seats (1 of 2) is no majority: undecided. The silent
    ///         seat is slashed, nobody earns a fee, and the council is re-drawn.
    function test_finalize_loneAcceptWithSilentSeatRedraws() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], true);
        _commitVote(id, 0, council[1], true);
        _reveal(id, 0, council[0], true);
        vm.warp(START + COMMIT_WINDOW + REVEAL_WINDOW);
        uint256[4] memory before = _balances();
        vm.expectEmit(address(market));
        emit ITaskMarket.VoterSlashed(id, 0, council[1], 1e18);
        vm.expectEmit(address(market));
        emit ITaskMarket.CouncilRedrawn(id, 0, 1, 0, block.number);
        market.finalizeCheckpoint(id, 0);
        uint256[4] memory afterB = _balances();
        vm.assertEq(afterB[2], before[2], "accept voter: nothing");
        vm.assertEq(afterB[0] - before[0], 1e18, "the silent seat's slash");
        vm.assertEq(_staked(council[1]), STAKE - 1e18);
        vm.assertEq(_staked(executor), STAKE);
    }

    /// @notice Council of 3, 2 accept, 1 silent: accepted; the two accept voters split the
    ///         checkpoint's 3 fees, the silent seat is slashed to the client. (Was council 2 with
    ///         1 accept and 1 silent, which no longer accepts.)
    function test_finalize_nonRevealerSlashedRevealerPaidPool() public {
        ITaskMarket.TaskParams memory p = _params();
        p.councilSize = 3;
        (uint256 t, address[] memory c) = _assignedTask(p);
        vm.prank(executor);
        market.commitCheckpoint(t, 0, ROOT);
        _commitVote(t, 0, c[0], true);
        _commitVote(t, 0, c[1], true);
        _commitVote(t, 0, c[2], true);
        vm.warp(START + COMMIT_WINDOW);
        _reveal(t, 0, c[0], true);
        _reveal(t, 0, c[1], true);
        vm.warp(START + COMMIT_WINDOW + REVEAL_WINDOW);
        uint256 b0 = token.balanceOf(c[0]);
        uint256 b1 = token.balanceOf(c[1]);
        uint256 b2 = token.balanceOf(c[2]);
        uint256 clientBefore = token.balanceOf(client);
        market.finalizeCheckpoint(t, 0);
        vm.assertEq(token.balanceOf(c[0]) - b0, 1.5e18, "majority voters split the pool");
        vm.assertEq(token.balanceOf(c[1]) - b1, 1.5e18, "majority voters split the pool");
        vm.assertEq(token.balanceOf(c[2]), b2);
        vm.assertEq(token.balanceOf(client) - clientBefore, 1e18, "slash to the client");
        vm.assertEq(_staked(c[2]), STAKE - 1e18);
    }

    /// @dev Council of 3 where seats 0 and 1 accept and `silent` (seat 2) never reveals;
    ///      returns the task.
    function _taskWithSilentSeat() internal returns (uint256 t, address silent, address[] memory c) {
        ITaskMarket.TaskParams memory p = _params();
        p.councilSize = 3;
        (t, c) = _assignedTask(p);
        silent = c[2];
    }

    function _acceptWithout(uint256 t, uint256 k, address[] memory c) internal {
        vm.prank(executor);
        market.commitCheckpoint(t, k, ROOT);
        _commitVote(t, k, c[0], true);
        _commitVote(t, k, c[1], true);
        vm.warp(block.timestamp + COMMIT_WINDOW);
        _reveal(t, k, c[0], true);
        _reveal(t, k, c[1], true);
        vm.warp(block.timestamp + REVEAL_WINDOW);
        market.finalizeCheckpoint(t, k);
    }

    function test_finalize_nonRevealSlashCappedAtCollateral() public {
        ITaskMarket.Config memory cfg = _defaultConfig();
        cfg.nonRevealSlashBps = 10_000; // the whole collateral per unrevealed verdict
        vm.prank(admin);
        market.setConfig(cfg);
        (uint256 t, address silent, address[] memory c) = _taskWithSilentSeat();
        // checkpoint 0: the silent seat loses its whole collateral
        _acceptWithout(t, 0, c);
        vm.assertEq(market.lockedFor(t, silent), 0);
        vm.assertEq(_staked(silent), STAKE - COLLATERAL);
        // checkpoint 1: nothing left to slash: no VoterSlashed, no revert
        _acceptWithout(t, 1, c);
        vm.assertEq(_staked(silent), STAKE - COLLATERAL);
        vm.assertEq(uint8(_task(t).status), uint8(ITaskMarket.Status.Finalized));
        vm.assertEq(market.lockedFor(t, silent), 0);
        bool onSetUpCouncil = silent == council[0] || silent == council[1];
        vm.assertEq(_locked(silent), onSetUpCouncil ? COLLATERAL : 0, "only its lock on the setUp task is left");
    }

    function test_finalize_noSlashWhenConfiguredZero() public {
        ITaskMarket.Config memory cfg = _defaultConfig();
        cfg.nonRevealSlashBps = 0;
        vm.prank(admin);
        market.setConfig(cfg);
        (uint256 t, address silent, address[] memory c) = _taskWithSilentSeat();
        _acceptWithout(t, 0, c);
        vm.assertEq(_staked(silent), STAKE);
        vm.assertEq(market.lockedFor(t, silent), COLLATERAL);
    }

    // ================================================================== finalizeCheckpoint: reject

    /// @notice Both reject: the executor loses its 10 oGPU collateral, 5 to the reject voters
    ///         (2.5 each), 5 to the client; the rejecters split the fee pool; the client gets the
    ///         rest of the escrow back; every lock is released; the task failed.
    function test_finalize_rejectSlashesRewardsRefunds() public {
        _commit(id, 0);
        for (uint256 i; i < 2; ++i) {
            _commitVote(id, 0, council[i], false);
        }
        _reveal(id, 0, council[0], false);
        _reveal(id, 0, council[1], false);
        uint256[4] memory before = _balances();
        vm.expectEmit(address(market));
        emit ITaskMarket.CheckpointFinalized(id, 0, false, 0, 2, 0, 0, 1e18, 0);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.Slashed(executor, address(market), address(market), COLLATERAL);
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskFailed(id, 0, ITaskMarket.FailReason.Rejected, COLLATERAL, 2.5e18, 5e18, ESCROW - 2e18);
        market.finalizeCheckpoint(id, 0);
        uint256[4] memory afterB = _balances();
        vm.assertEq(afterB[0] - before[0], 5e18 + ESCROW - 2e18, "slash share + refund");
        vm.assertEq(afterB[1], before[1], "executor paid nothing");
        vm.assertEq(afterB[2] - before[2], 1e18 + 2.5e18, "fee + reward");
        vm.assertEq(afterB[3] - before[3], 1e18 + 2.5e18, "fee + reward");
        vm.assertEq(_staked(executor), STAKE - COLLATERAL);
        vm.assertEq(token.balanceOf(address(market)), 0);
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(uint8(t.status), uint8(ITaskMarket.Status.Failed));
        vm.assertEq(t.escrow, 0);
        vm.assertEq(uint8(market.checkpointOf(id, 0).state), uint8(ITaskMarket.CheckpointState.Rejected));
        for (uint256 i; i < 3; ++i) {
            vm.assertEq(_locked(providers[i]), 0);
            vm.assertEq(market.lockedFor(id, providers[i]), 0);
        }
    }

    function test_finalize_rejectAfterAcceptedCheckpoint() public {
        _commit(id, 0);
        _passCheckpoint(id, 0, council, true);
        _commit(id, 1);
        uint256 clientBefore = token.balanceOf(client);
        _passCheckpoint(id, 1, council, false);
        // escrow left: 104 - 25 - 2 (k=0) - 2 (k=1 fees) = 75, plus half the slash
        vm.assertEq(token.balanceOf(client) - clientBefore, 75e18 + 5e18);
        vm.assertEq(token.balanceOf(executor), FUNDS - STAKE + 25e18, "keeps what it earned");
        vm.assertEq(token.balanceOf(address(market)), 0);
    }

    /// @notice Council of 3, 2 reject and 1 accepts: the accepter is the minority and gets
    ///         nothing; rewards split over the 2 rejecters, the odd wei to the client.
    function test_finalize_rejectMinorityUnpaidDustToClient() public {
        ITaskMarket.TaskParams memory p = _params();
        p.councilSize = 3;
        p.collateral = 10e18 + 1; // 5e18 + 0 reward after the bps cut; odd amounts
        (uint256 t, address[] memory c) = _assignedTask(p);
        vm.prank(executor);
        market.commitCheckpoint(t, 0, ROOT);
        _commitVote(t, 0, c[0], true);
        _commitVote(t, 0, c[1], false);
        _commitVote(t, 0, c[2], false);
        _reveal(t, 0, c[0], true);
        _reveal(t, 0, c[1], false);
        _reveal(t, 0, c[2], false);
        uint256 b0 = token.balanceOf(c[0]);
        uint256 b1 = token.balanceOf(c[1]);
        uint256 clientBefore = token.balanceOf(client);
        uint256 slashed = 10e18 + 1;
        uint256 reward = slashed * 5_000 / 10_000 / 2;
        uint256 toClient = slashed - 2 * reward;
        uint256 escrow = _escrowOf(p);
        uint256 feeEach = FEE * 3 / 2;
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskFailed(t, 0, ITaskMarket.FailReason.Rejected, 10e18 + 1, reward, toClient, escrow - 2 * feeEach);
        market.finalizeCheckpoint(t, 0);
        vm.assertEq(token.balanceOf(c[0]), b0, "minority unpaid");
        vm.assertEq(token.balanceOf(c[1]) - b1, feeEach + reward);
        vm.assertEq(token.balanceOf(client) - clientBefore, toClient + escrow - 2 * feeEach);
        vm.assertEq(token.balanceOf(address(market)), ESCROW, "only the setUp task's escrow is left");
    }

    function test_finalize_rejectWithoutRewardSlashesToClient() public {
        ITaskMarket.Config memory cfg = _defaultConfig();
        cfg.slashRewardBps = 0;
        vm.prank(admin);
        market.setConfig(cfg);
        (uint256 t, address[] memory c) = _assignedTask();
        vm.prank(executor);
        market.commitCheckpoint(t, 0, ROOT);
        for (uint256 i; i < 2; ++i) {
            _commitVote(t, 0, c[i], false);
        }
        _reveal(t, 0, c[0], false);
        _reveal(t, 0, c[1], false);
        uint256 clientBefore = token.balanceOf(client);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.Slashed(executor, address(market), client, COLLATERAL);
        market.finalizeCheckpoint(t, 0);
        vm.assertEq(token.balanceOf(client) - clientBefore, COLLATERAL + ESCROW - 2e18);
    }

    function test_finalize_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNoOpenRound.selector, id, 0));
        market.finalizeCheckpoint(id, 0);
        _commit(id, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNoOpenRound.selector, id, 1));
        market.finalizeCheckpoint(id, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IVerdictRound.VerdictRoundNotOver.selector, _roundId(0), uint64(START + COMMIT_WINDOW + REVEAL_WINDOW)
            )
        );
        market.finalizeCheckpoint(id, 0);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketUnknownTask.selector, 99));
        market.finalizeCheckpoint(99, 0);
        _passCheckpoint(id, 0, council, false);
        vm.expectRevert(_unexpected(id, ITaskMarket.Status.Failed, ITaskMarket.Status.Assigned));
        market.finalizeCheckpoint(id, 0);
    }

    // ================================================================== late penalty

    /// @notice soft 30 min, hard 90 min after assignment, committed at 60 min: half the share.
    function test_latePenalty_linear() public {
        ITaskMarket.TaskParams memory p = _params();
        p.softDeadline = 30 minutes;
        p.hardDeadline = 90 minutes;
        p.checkpointWindow = 2 hours;
        (uint256 t, address[] memory c) = _assignedTask(p);
        vm.warp(START + 60 minutes);
        vm.prank(executor);
        market.commitCheckpoint(t, 0, ROOT);
        for (uint256 i; i < 2; ++i) {
            _commitVote(t, 0, c[i], true);
        }
        _reveal(t, 0, c[0], true);
        _reveal(t, 0, c[1], true);
        uint256 before = token.balanceOf(executor);
        // the next deadline is capped by the hard deadline
        vm.expectEmit(address(market));
        emit ITaskMarket.CheckpointFinalized(t, 0, true, 2, 0, 12.5e18, 12.5e18, 1e18, uint64(START + 90 minutes));
        market.finalizeCheckpoint(t, 0);
        vm.assertEq(token.balanceOf(executor) - before, 12.5e18);
        vm.assertEq(_task(t).escrow, _escrowOf(p) - 12.5e18 - 2e18, "the penalty stays in escrow for the client");
        // checkpoint 1 can no longer be committed at or after the hard deadline
        vm.warp(START + 90 minutes);
        vm.expectRevert(
            abi.encodeWithSelector(ITaskMarket.TaskMarketDeadlinePassed.selector, t, 1, uint64(START + 90 minutes))
        );
        vm.prank(executor);
        market.commitCheckpoint(t, 1, ROOT);
        market.timeoutCheckpoint(t);
        vm.assertEq(token.balanceOf(address(market)), ESCROW, "only the setUp task's escrow is left");
    }

    /// @notice A re-drawn council's round opens when that council is seated, which may be after
    ///         the hard deadline; the late penalty still counts from the executor's commit (the
    ///         first round's opening): committed at 60 min of soft 30 / hard 90, a tie, the new
    ///         council seated at 100 min, accepted: paid 12.5 of the share 25, as without the
    ///         re-draw (before, hardAt - committedAt underflowed and the round could not be finalized).
    function test_latePenalty_redrawnRoundCountsFromTheCommit() public {
        ITaskMarket.TaskParams memory p = _params();
        p.softDeadline = 30 minutes;
        p.hardDeadline = 90 minutes;
        p.checkpointWindow = 2 hours;
        (uint256 t, address[] memory c) = _assignedTask(p);
        vm.warp(START + 60 minutes);
        vm.prank(executor);
        market.commitCheckpoint(t, 0, ROOT);
        _commitVote(t, 0, c[0], true);
        _commitVote(t, 0, c[1], false);
        _reveal(t, 0, c[0], true);
        _reveal(t, 0, c[1], false);
        market.finalizeCheckpoint(t, 0); // a tie: re-drawn
        vm.warp(START + 100 minutes);
        address[] memory fresh = _seat(t);
        vm.assertEq(market.checkpointOf(t, 0).committedAt, START + 60 minutes, "the commit time, not the re-seat");
        uint256 before = token.balanceOf(executor);
        for (uint256 i; i < fresh.length; ++i) {
            _commitVote(t, 0, fresh[i], true);
        }
        for (uint256 i; i < fresh.length; ++i) {
            _reveal(t, 0, fresh[i], true);
        }
        vm.expectEmit(address(market));
        emit ITaskMarket.CheckpointFinalized(t, 0, true, 2, 0, 12.5e18, 12.5e18, 1e18, uint64(START + 90 minutes));
        market.finalizeCheckpoint(t, 0);
        vm.assertEq(token.balanceOf(executor) - before, 12.5e18);
        // checkpoint 1's deadline (the hard deadline) has passed: it times out
        market.timeoutCheckpoint(t);
        vm.assertEq(uint8(_task(t).status), uint8(ITaskMarket.Status.Failed));
    }

    /// @notice Fuzzed deadlines and commit times: paid = share when committed by the soft
    ///         deadline, else share * (hardAt - t) / (hardAt - softAt); paid + penalty = share.
    function testFuzz_latePenalty(uint32 soft, uint32 hard, uint256 commitAt, uint96 price) public {
        hard = uint32(bound(hard, 2, 30 days));
        soft = uint32(bound(soft, 0, hard - 1));
        uint256 bidPrice = bound(price, 0, MAX_PRICE);
        ITaskMarket.TaskParams memory p = _params();
        p.softDeadline = soft;
        p.hardDeadline = hard;
        p.checkpointWindow = 30 days;
        p.maxBids = 3;
        uint256 t = _submit(p);
        _bid(t, providers[0], bidPrice);
        _bid(t, providers[1], MAX_PRICE);
        _bid(t, providers[2], MAX_PRICE);
        market.assign(t);
        address[] memory c = _seat(t);
        commitAt = bound(commitAt, 0, uint256(hard) - 1);
        vm.warp(START + commitAt);
        vm.prank(executor);
        market.commitCheckpoint(t, 0, ROOT);
        for (uint256 i; i < 2; ++i) {
            _commitVote(t, 0, c[i], true);
        }
        _reveal(t, 0, c[0], true);
        _reveal(t, 0, c[1], true);
        uint256 share = bidPrice * 5 / 10;
        uint256 expected = commitAt <= soft ? share : share * (hard - commitAt) / (hard - soft);
        uint256 before = token.balanceOf(executor);
        market.finalizeCheckpoint(t, 0);
        uint256 paid = token.balanceOf(executor) - before;
        vm.assertEq(paid, expected);
        vm.assertLe(paid, share);
        if (commitAt > soft && share != 0) vm.assertLt(paid, share + 1);
        vm.assertEq(_task(t).escrow, _escrowOf(p) - paid - 2e18);
    }

    // ================================================================== segments and shares

    /// @notice Fuzzed item counts, checkpoint counts and prices: segments tile [0, itemCount),
    ///         the first itemCount % k are one item larger, and the shares sum to the price.
    function testFuzz_segmentsAndShares(uint32 items, uint8 checkpoints, uint96 price) public {
        items = uint32(bound(items, 1, 1_000_000));
        uint256 k = bound(checkpoints, 1, items < 32 ? items : 32);
        uint256 bidPrice = bound(price, 0, MAX_PRICE);
        ITaskMarket.TaskParams memory p = _params();
        p.itemCount = items;
        p.checkpoints = uint8(k);
        p.councilSize = 1;
        p.maxBids = 2;
        uint256 t = _submit(p);
        _bid(t, providers[0], bidPrice);
        _bid(t, providers[1], MAX_PRICE);
        market.assign(t);
        uint256 next;
        uint256 total;
        for (uint256 i; i < k; ++i) {
            ITaskMarket.Checkpoint memory c = market.checkpointOf(t, i);
            vm.assertEq(c.firstItem, next, "segments are contiguous");
            uint256 size = items / k + (i < items % k ? 1 : 0);
            vm.assertEq(c.itemCount, size);
            vm.assertEq(c.share, bidPrice * (next + size) / items - bidPrice * next / items);
            next += size;
            total += c.share;
        }
        vm.assertEq(next, items);
        vm.assertEq(total, bidPrice, "shares sum to the price");
    }

    /// @notice A whole run with fuzzed checkpoint count, price and fees pays exactly: the
    ///         executor its price, each member fee * checkpoints, the client the rest.
    function testFuzz_fullRunPaysExactly(uint8 checkpoints, uint96 price, uint96 fee) public {
        uint256 k = bound(checkpoints, 1, 5);
        uint256 bidPrice = bound(price, 0, MAX_PRICE);
        ITaskMarket.TaskParams memory p = _params();
        p.checkpoints = uint8(k);
        p.councilFeePerVote = bound(fee, 0, 10e18);
        p.councilSize = 2;
        p.maxBids = 3;
        uint256 t = _submit(p);
        _bid(t, providers[0], bidPrice);
        _bid(t, providers[1], MAX_PRICE);
        _bid(t, providers[2], MAX_PRICE);
        market.assign(t);
        address[] memory c = _seat(t);
        uint256 clientBefore = token.balanceOf(client);
        uint256 memberBefore = token.balanceOf(c[0]);
        uint256 execBefore = token.balanceOf(executor);
        for (uint256 i; i < k; ++i) {
            vm.prank(executor);
            market.commitCheckpoint(t, i, ROOT);
            _passCheckpoint(t, i, c, true);
        }
        vm.assertEq(token.balanceOf(executor) - execBefore, bidPrice);
        vm.assertEq(token.balanceOf(c[0]) - memberBefore, p.councilFeePerVote * k);
        vm.assertEq(token.balanceOf(client) - clientBefore, MAX_PRICE - bidPrice);
        vm.assertEq(token.balanceOf(address(market)), ESCROW, "only the setUp task's escrow is left");
        vm.assertEq(uint8(_task(t).status), uint8(ITaskMarket.Status.Finalized));
    }

    // ================================================================== timeoutCheckpoint

    function test_timeout_slashesExecutorRefundsClient() public {
        vm.warp(START + CK_WINDOW);
        uint256 clientBefore = token.balanceOf(client);
        vm.expectEmit(address(registry));
        emit IProviderRegistry.Slashed(executor, address(market), client, COLLATERAL);
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskFailed(id, 0, ITaskMarket.FailReason.Timeout, COLLATERAL, 0, COLLATERAL, ESCROW);
        vm.prank(stranger); // anyone
        market.timeoutCheckpoint(id);
        vm.assertEq(token.balanceOf(client) - clientBefore, COLLATERAL + ESCROW);
        vm.assertEq(_staked(executor), STAKE - COLLATERAL);
        vm.assertEq(uint8(_task(id).status), uint8(ITaskMarket.Status.Failed));
        for (uint256 i; i < 3; ++i) {
            vm.assertEq(_locked(providers[i]), 0);
        }
        vm.assertEq(token.balanceOf(address(market)), 0);
    }

    function test_timeout_laterCheckpointCountsFromFinalization() public {
        _commit(id, 0);
        vm.warp(START + 5 minutes);
        _passCheckpoint(id, 0, council, true);
        uint64 deadline = uint64(START + 5 minutes + CK_WINDOW);
        vm.assertEq(_task(id).deadline, deadline);
        vm.warp(deadline - 1);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketDeadlineNotPassed.selector, id, 1, deadline));
        market.timeoutCheckpoint(id);
        vm.warp(deadline);
        uint256 clientBefore = token.balanceOf(client);
        market.timeoutCheckpoint(id);
        vm.assertEq(token.balanceOf(client) - clientBefore, COLLATERAL + ESCROW - 27e18);
        vm.assertEq(token.balanceOf(executor), FUNDS - STAKE + 25e18);
    }

    function test_timeout_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(ITaskMarket.TaskMarketDeadlineNotPassed.selector, id, 0, uint64(START + CK_WINDOW))
        );
        market.timeoutCheckpoint(id);
        _commit(id, 0);
        vm.warp(START + 10 days);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketRoundInProgress.selector, id, 0));
        market.timeoutCheckpoint(id);
        uint256 open = _submit();
        vm.expectRevert(_unexpected(open, ITaskMarket.Status.Open, ITaskMarket.Status.Assigned));
        market.timeoutCheckpoint(open);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketUnknownTask.selector, 99));
        market.timeoutCheckpoint(99);
    }

    // ================================================================== confirm

    function test_confirm_beforeAnyCheckpointPaysWholePrice() public {
        uint256[4] memory before = _balances();
        vm.expectEmit(address(market));
        emit ITaskMarket.TaskFinalized(id, true, PRICE, ESCROW - PRICE);
        vm.prank(client);
        market.confirm(id);
        uint256[4] memory afterB = _balances();
        vm.assertEq(afterB[1] - before[1], PRICE);
        vm.assertEq(afterB[0] - before[0], ESCROW - PRICE, "unearned fees and maxPrice - price");
        vm.assertEq(afterB[2], before[2], "no round finalized: no fee");
        vm.assertEq(uint8(_task(id).status), uint8(ITaskMarket.Status.Finalized));
        vm.assertEq(token.balanceOf(address(market)), 0);
        for (uint256 i; i < 3; ++i) {
            vm.assertEq(_locked(providers[i]), 0);
        }
    }

    function test_confirm_afterAcceptedCheckpointPaysTheRest() public {
        _commit(id, 0);
        _passCheckpoint(id, 0, council, true);
        uint256 execBefore = token.balanceOf(executor);
        uint256 clientBefore = token.balanceOf(client);
        vm.prank(client);
        market.confirm(id);
        vm.assertEq(token.balanceOf(executor) - execBefore, 25e18);
        vm.assertEq(token.balanceOf(client) - clientBefore, ESCROW - PRICE - 2e18);
    }

    function test_confirm_duringVotingCancelsRound() public {
        _commit(id, 0);
        _commitVote(id, 0, council[0], false);
        vm.prank(client);
        market.confirm(id);
        vm.assertEq(uint8(market.checkpointOf(id, 0).state), uint8(ITaskMarket.CheckpointState.Cancelled));
        vm.assertEq(token.balanceOf(executor), FUNDS - STAKE + PRICE);
        vm.expectRevert(_unexpected(id, ITaskMarket.Status.Finalized, ITaskMarket.Status.Assigned));
        _reveal(id, 0, council[0], false);
        vm.expectRevert(_unexpected(id, ITaskMarket.Status.Finalized, ITaskMarket.Status.Assigned));
        market.finalizeCheckpoint(id, 0);
    }

    function test_confirm_keepsEarlierLatePenalty() public {
        ITaskMarket.TaskParams memory p = _params();
        p.softDeadline = 30 minutes;
        p.hardDeadline = 90 minutes;
        p.checkpointWindow = 2 hours;
        (uint256 t, address[] memory c) = _assignedTask(p);
        vm.warp(START + 60 minutes);
        vm.prank(executor);
        market.commitCheckpoint(t, 0, ROOT);
        _passCheckpoint(t, 0, c, true); // paid 12.5 of 25
        uint256 execBefore = token.balanceOf(executor);
        vm.prank(client);
        market.confirm(t);
        vm.assertEq(token.balanceOf(executor) - execBefore, 25e18, "the unpaid nominal rest, no penalty");
        vm.assertEq(token.balanceOf(address(market)), ESCROW, "only the setUp task's escrow is left");
    }

    function test_confirm_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketNotClient.selector, id, executor));
        vm.prank(executor);
        market.confirm(id);
        uint256 open = _submit();
        vm.expectRevert(_unexpected(open, ITaskMarket.Status.Open, ITaskMarket.Status.Assigned));
        vm.prank(client);
        market.confirm(open);
        vm.expectRevert(abi.encodeWithSelector(ITaskMarket.TaskMarketUnknownTask.selector, 99));
        vm.prank(client);
        market.confirm(99);
        vm.prank(client);
        market.confirm(id);
        vm.expectRevert(_unexpected(id, ITaskMarket.Status.Finalized, ITaskMarket.Status.Assigned));
        vm.prank(client);
        market.confirm(id);
    }

    // ================================================================== views after the end

    function test_views_afterFinalization() public {
        _commit(id, 0);
        _passCheckpoint(id, 0, council, true);
        ITaskMarket.Task memory t = _task(id);
        vm.assertEq(t.executor, executor);
        vm.assertEq(t.price, PRICE);
        vm.assertEq(market.councilOf(id), council);
        ITaskMarket.Verdict memory v = market.verdictOf(id, 0, council[0]);
        vm.assertTrue(v.member && v.committed && v.revealed && v.accept);
        vm.assertFalse(market.verdictOf(id, 1, council[0]).committed);
        vm.assertFalse(market.verdictOf(id, 0, executor).member);
    }
}
