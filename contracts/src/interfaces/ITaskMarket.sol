// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IProviderRegistry} from "./IProviderRegistry.sol";
import {IVerdictRound} from "./IVerdictRound.sol";

/// @title ITaskMarket
/// @notice The batch task market: a client escrows a task's max price plus council fees,
///         registered providers bid (locking collateral in the {IProviderRegistry}), the lowest
///         bid executes and a stake-weighted council drawn from the model's staked pool in the
///         registry (not from the bidders) validates each
///         checkpoint with a commit-reveal verdict round. Accepted checkpoints pay the executor
///         pro rata; a rejected checkpoint or a missed deadline fails the task and slashes it.
///
/// Lifecycle: Open -> Assigned -> (per checkpoint: commit -> verdict round -> finalize)
///            -> Finalized | Failed;  Open -> Expired | Cancelled.
///
/// Rules (details in contracts/README.md):
///   - Bids: price <= maxPrice, one per provider, while now < biddingEnd. Each locks
///     `collateral` of the bidder's free stake. At most `maxBids` (<= 64) are held: once the cap
///     is reached, a bid strictly below the highest held bid evicts it (its collateral is
///     released, `BidEvicted`; the new bid takes its index) and any other bid is refused
///     (TaskMarketBidNotBelowHighest), so the cap cannot be filled to crowd out cheaper
///     bidders. The highest bid is found through a tournament tree over the bid indices (one
///     bit per inner node, in the task's bid slot), so every bid costs O(log maxBids) gas. An
///     evicted provider may bid again. Best bid = lowest price, ties to the earliest bid.
///   - `assign` (anyone): not before `assignableAt` = submission + the deployment's
///     `minOpenTime` (so honest providers always get that long to bid, even when the cap is
///     reached at once), and then once bidCount == maxBids, or once the bidding window is over
///     with at least 1 bid. The best bid executes; the other bidders' collateral is released at
///     once; drawBlock = the assign block. A window that ends without a bid lets the task `expire`.
///   - `seatCouncil` (anyone, from block drawBlock + 1): councilSize members of the model's
///     council pool, drawn stake-weighted without replacement as of block drawBlock - 1 with
///     keccak256(abi.encode(blockhash(drawBlock), taskId)), the executor and the client
///     excluded, members that left since or cannot back the collateral skipped; each has the
///     collateral locked. The task's clock (assignedAt, the first commit deadline) starts then.
///     Past 256 blocks it re-anchors drawBlock instead; a pool that cannot seat a full council
///     fails the task NoCouncil (refund, executor released, no slash).
///   - Checkpoint k covers items [first_k, first_k + n_k): itemCount split into `checkpoints`
///     segments, the first (itemCount % checkpoints) segments one item larger. Its nominal share
///     of the price is floor(price * end_k / itemCount) - floor(price * first_k / itemCount).
///   - Deadlines: the executor must commit checkpoint k before
///     min(start_k + checkpointWindow, assignedAt + hardDeadline (if set)), start_0 = assignedAt,
///     start_k = the time checkpoint k-1 was finalized.
///   - Late penalty (softDeadline/hardDeadline, seconds after assignment; 0/0 = none): a
///     checkpoint committed at t > assignedAt + softDeadline is paid
///     share * (hardAt - t) / (hardAt - softAt); the rest stays with the client.
///   - Verdicts: a checkpoint is accepted iff more than councilCount / 2 seats reveal "accept"
///     (a strict majority of the seated council), rejected iff more than councilCount / 2
///     reveal "reject". Otherwise (a tie, too few reveals, none at all) the round is undecided:
///     the first time, the council is released and re-drawn (CouncilRedrawn) to judge the same
///     root in a new round; the second time the checkpoint fails Undecided with nobody slashed
///     but the silent seats: the executor's collateral is released, as a tie can be made by one
///     dissenting seat and proves no fault. The voters whose revealed verdict equals a decided
///     outcome split feePerVote * councilCount for that checkpoint equally; the others get
///     nothing (an undecided round pays no fee); a seat that did not reveal is slashed
///     `nonRevealSlash` (capped at its remaining collateral) to the client. Unearned fees go
///     back to the client at the end.
///   - Rejection: the executor's whole collateral is slashed; slashRewardBps of it is split
///     equally among the reject voters, the rest (and rounding dust) goes to the client.
///   - Timeout: the executor's whole collateral is slashed to the client.
///   - Undecided (twice) and NoCouncil: the executor is not slashed (its collateral is released)
///     and is paid nothing for the failed checkpoint; the client gets its escrow back.
///   - Every end (Finalized, Failed, Expired, Cancelled) releases all remaining collateral and
///     refunds the task's whole remaining escrow to the client: no task keeps funds.
///
/// All payments are pushed (direct transfers) inside the call that settles them; the token
/// must be a plain ERC-20 (no fee on transfer, no blocklist) and the registry's own token.
/// The market needs MARKET_ROLE on the registry.
interface ITaskMarket is IVerdictRound {
    // ---------------------------------------------------------------- types

    /// @notice Lifecycle of a task.
    enum Status {
        None, // no such task
        Open, // bidding
        Assigned, // executor and council chosen; checkpoints running
        Finalized, // every checkpoint accepted, or confirmed by the client
        Failed, // a checkpoint was rejected, or the executor missed a deadline
        Expired, // the bidding window ended without a bid
        Cancelled // cancelled by the client before any bid
    }

    /// @notice Why a task failed.
    enum FailReason {
        Rejected, // a majority of the council rejected a checkpoint
        Timeout, // the executor missed a checkpoint deadline
        Undecided, // two councils in a row reached no majority (silence, ties): executor not slashed
        NoCouncil // the pool could not seat a full council: nobody slashed
    }

    /// @notice State of a checkpoint (mirrors its verdict round).
    enum CheckpointState {
        None, // not committed
        Voting, // committed; verdict round open
        Accepted,
        Rejected,
        Cancelled // round dropped: the client confirmed the task during it
    }

    /// @notice Protocol bounds, set by the admin. Changes apply to tasks submitted afterwards;
    ///         a task copies what its settlement needs (nonRevealSlash, slashRewardBps) at submit.
    /// @param maxBids Largest `maxBids` a task may ask for, 2..64.
    /// @param maxCouncilSize Largest council, 1..15 (and < maxBids).
    /// @param maxCheckpoints Largest number of checkpoints, 1..32.
    /// @param nonRevealSlashBps Slash per unrevealed verdict, in basis points of the task's
    ///        collateral, 0..10,000.
    /// @param slashRewardBps Share of a rejected executor's slashed collateral that goes to the
    ///        reject voters, in basis points, 0..10,000; the rest goes to the client.
    /// @param minCollateral Smallest collateral a task may ask of each bidder (>= 1).
    /// @param minBiddingWindow Bounds of the bidding window, seconds.
    /// @param maxBiddingWindow Bounds of the bidding window, seconds.
    /// @param minCheckpointWindow Bounds of the per-checkpoint window, seconds.
    /// @param maxCheckpointWindow Bounds of the per-checkpoint window, seconds.
    /// @param minVerdictWindow Bounds of the commit and of the reveal window, seconds.
    /// @param maxVerdictWindow Bounds of the commit and of the reveal window, seconds.
    ///        Every window is 1..MAX_DURATION with min <= max.
    /// @param minOpenTime Seconds after submission before a task may be assigned, even with
    ///        maxBids bids in (0..minBiddingWindow, so it never outlasts a bidding window).
    struct Config {
        uint8 maxBids;
        uint8 maxCouncilSize;
        uint8 maxCheckpoints;
        uint16 nonRevealSlashBps;
        uint16 slashRewardBps;
        uint96 minCollateral;
        uint32 minBiddingWindow;
        uint32 maxBiddingWindow;
        uint32 minCheckpointWindow;
        uint32 maxCheckpointWindow;
        uint32 minVerdictWindow;
        uint32 maxVerdictWindow;
        uint32 minOpenTime;
    }

    /// @notice What a client submits (the on-chain part of the task prescription T).
    /// @param specHash keccak256 of the canonical JSON of the task spec.
    /// @param specUri Where the spec is, 1..256 bytes.
    /// @param dataRoot Merkle root over the data items.
    /// @param modelHash sha256 of the model's GGUF file.
    /// @param itemCount Number of data items (>= 1).
    /// @param checkpoints Number of checkpoints, 1..min(itemCount, maxCheckpoints).
    /// @param councilSize Council seats c, 1..maxCouncilSize.
    /// @param maxBids Bidding stops after this many bids (H), councilSize+1..config maxBids.
    /// @param maxPrice The most the client pays the executor, 1..2^96-2.
    /// @param councilFeePerVote Fee per council seat per checkpoint (may be 0).
    /// @param collateral Stake each bidder locks, >= minCollateral, < 2^96.
    /// @param biddingWindow Bidding stops this many seconds after submission (H).
    /// @param checkpointWindow Seconds the executor has per checkpoint.
    /// @param commitWindow Seconds of a verdict round's commit phase.
    /// @param revealWindow Seconds of a verdict round's reveal phase.
    /// @param softDeadline Late penalty starts this many seconds after assignment (0 with hard 0: none).
    /// @param hardDeadline Payment reaches 0, and commits stop, this many seconds after
    ///        assignment; 0 = no late penalty. Needs softDeadline < hardDeadline <= MAX_DURATION.
    struct TaskParams {
        bytes32 specHash;
        string specUri;
        bytes32 dataRoot;
        bytes32 modelHash;
        uint32 itemCount;
        uint8 checkpoints;
        uint8 councilSize;
        uint8 maxBids;
        uint256 maxPrice;
        uint256 councilFeePerVote;
        uint256 collateral;
        uint32 biddingWindow;
        uint32 checkpointWindow;
        uint32 commitWindow;
        uint32 revealWindow;
        uint32 softDeadline;
        uint32 hardDeadline;
    }

    /// @notice A task, as returned by {getTask}.
    /// @param client Who submitted (and pays).
    /// @param status Lifecycle state.
    /// @param specHash See {TaskParams}.
    /// @param specUri See {TaskParams}.
    /// @param dataRoot See {TaskParams}.
    /// @param modelHash See {TaskParams}.
    /// @param itemCount See {TaskParams}.
    /// @param checkpoints See {TaskParams}.
    /// @param councilSize Requested council size c.
    /// @param maxBids See {TaskParams}.
    /// @param maxPrice See {TaskParams}.
    /// @param councilFeePerVote See {TaskParams}.
    /// @param collateral See {TaskParams}.
    /// @param biddingEnd Timestamp at which bidding stops.
    /// @param assignableAt Timestamp before which the task cannot be assigned (minOpenTime).
    /// @param checkpointWindow See {TaskParams}.
    /// @param commitWindow See {TaskParams}.
    /// @param revealWindow See {TaskParams}.
    /// @param softDeadline See {TaskParams} (relative to assignedAt).
    /// @param hardDeadline See {TaskParams} (relative to assignedAt).
    /// @param nonRevealSlash Amount slashed per unrevealed verdict (fixed at submit).
    /// @param slashRewardBps Reject voters' share of a slashed executor's collateral (fixed at submit).
    /// @param escrow Tokens the market still holds for this task (0 once it ended).
    /// @param bidCount Bids placed.
    /// @param bestIndex Index of the best bid (meaningful when bidCount > 0).
    /// @param bestPrice Price of the best bid (0 when no bid).
    /// @param executor The executor (zero before assignment).
    /// @param price The executor's price (0 before assignment).
    /// @param assignedAt Assignment timestamp (0 before).
    /// @param councilCount Council seats filled: councilSize once seated, 0 while not seated.
    /// @param nextCheckpoint The checkpoint being worked on or voted on (== checkpoints when all accepted).
    /// @param voting Whether nextCheckpoint is committed (its round is open, or waits for a
    ///        re-drawn council when !councilSeated).
    /// @param deadline When !voting, Assigned and seated: the commit deadline of nextCheckpoint.
    /// @param councilSeated Whether the council of the current round is seated.
    struct Task {
        address client;
        Status status;
        bytes32 specHash;
        string specUri;
        bytes32 dataRoot;
        bytes32 modelHash;
        uint32 itemCount;
        uint8 checkpoints;
        uint8 councilSize;
        uint8 maxBids;
        uint256 maxPrice;
        uint256 councilFeePerVote;
        uint256 collateral;
        uint64 biddingEnd;
        uint64 assignableAt;
        uint32 checkpointWindow;
        uint32 commitWindow;
        uint32 revealWindow;
        uint32 softDeadline;
        uint32 hardDeadline;
        uint256 nonRevealSlash;
        uint16 slashRewardBps;
        uint256 escrow;
        uint8 bidCount;
        uint8 bestIndex;
        uint256 bestPrice;
        address executor;
        uint256 price;
        uint64 assignedAt;
        uint8 councilCount;
        uint8 nextCheckpoint;
        bool voting;
        uint64 deadline;
        bool councilSeated;
    }

    /// @notice A bid.
    /// @param provider The bidder.
    /// @param price Its price.
    struct Bid {
        address provider;
        uint256 price;
    }

    /// @notice A checkpoint, as returned by {checkpointOf}.
    /// @param state Its state.
    /// @param resultRoot Merkle root of the executor's outputs for the segment (0 before commit).
    /// @param seedBlock Block of the commit; the sampling seed is blockhash(seedBlock).
    /// @param committedAt Timestamp of the executor's commit (used for the late penalty; after a
    ///        re-draw still the commit, not the opening of the re-drawn council's round).
    /// @param commitEnd End of the verdict commit phase.
    /// @param revealEnd End of the verdict reveal phase.
    /// @param commits Seats that committed a verdict.
    /// @param reveals Seats that revealed.
    /// @param approvals Revealed "accept" verdicts.
    /// @param rejections Revealed "reject" verdicts.
    /// @param firstItem First item index of the segment.
    /// @param itemCount Items in the segment.
    /// @param share Nominal share of the price for the segment (0 before assignment).
    struct Checkpoint {
        CheckpointState state;
        bytes32 resultRoot;
        uint64 seedBlock;
        uint64 committedAt;
        uint64 commitEnd;
        uint64 revealEnd;
        uint8 commits;
        uint8 reveals;
        uint8 approvals;
        uint8 rejections;
        uint32 firstItem;
        uint32 itemCount;
        uint256 share;
    }

    /// @notice One council member's verdict on one checkpoint, as returned by {verdictOf}.
    /// @param member Whether the account holds a council seat on the task.
    /// @param seat Its seat (meaningful when member).
    /// @param committed Whether it committed.
    /// @param revealed Whether it revealed.
    /// @param accept The revealed verdict (meaningful when revealed).
    /// @param commitment The commitment (0 when none).
    struct Verdict {
        bool member;
        uint8 seat;
        bool committed;
        bool revealed;
        bool accept;
        bytes32 commitment;
    }

    // ---------------------------------------------------------------- errors

    /// @notice seatCouncil was called while the current round's council is seated.
    /// @param taskId The task.
    error TaskMarketCouncilAlreadySeated(uint256 taskId);

    /// @notice seatCouncil was called in the draw block itself: its hash (the seed) is not known yet.
    /// @param taskId The task.
    /// @param drawBlock The draw block; seating is possible from drawBlock + 1.
    error TaskMarketSeatingTooEarly(uint256 taskId, uint256 drawBlock);

    /// @notice The call needs a seated council and the task's is not seated yet (call seatCouncil).
    /// @param taskId The task.
    error TaskMarketCouncilNotSeated(uint256 taskId);

    /// @notice The constructor got the zero address as registry.
    /// @param registry The rejected registry.
    error TaskMarketInvalidRegistry(address registry);

    /// @notice The token is not the registry's staking token (slashes pay in the registry's token).
    /// @param token The token given.
    /// @param registryToken The registry's token.
    error TaskMarketTokenMismatch(address token, address registryToken);

    /// @notice The constructor got the zero address as admin.
    /// @param admin The rejected admin.
    error TaskMarketInvalidAdmin(address admin);

    /// @notice A configuration field is out of its bounds (see {Config}).
    /// @param field The field's name, e.g. "maxBids".
    error TaskMarketInvalidConfig(string field);

    /// @notice specHash, dataRoot or modelHash is zero.
    /// @param specHash The given spec hash.
    /// @param dataRoot The given data root.
    /// @param modelHash The given model hash.
    error TaskMarketMissingHash(bytes32 specHash, bytes32 dataRoot, bytes32 modelHash);

    /// @notice The spec URI is empty or too long.
    /// @param length Its length in bytes.
    /// @param maxLength The largest length allowed.
    error TaskMarketInvalidSpecUri(uint256 length, uint256 maxLength);

    /// @notice itemCount is 0.
    /// @param itemCount The rejected count.
    error TaskMarketInvalidItemCount(uint32 itemCount);

    /// @notice checkpoints is 0, above itemCount or above the configured maximum.
    /// @param checkpoints The rejected number.
    /// @param itemCount The task's item count.
    /// @param maxCheckpoints The configured maximum.
    error TaskMarketInvalidCheckpoints(uint8 checkpoints, uint32 itemCount, uint8 maxCheckpoints);

    /// @notice councilSize is 0 or above the configured maximum.
    /// @param councilSize The rejected size.
    /// @param maxCouncilSize The configured maximum.
    error TaskMarketInvalidCouncilSize(uint8 councilSize, uint8 maxCouncilSize);

    /// @notice maxBids is below councilSize + 1 or above the configured maximum.
    /// @param maxBids The rejected value.
    /// @param minBids councilSize + 1.
    /// @param maxAllowed The configured maximum.
    error TaskMarketInvalidMaxBids(uint8 maxBids, uint256 minBids, uint8 maxAllowed);

    /// @notice maxPrice is 0 or does not fit below 2^96 - 1.
    /// @param maxPrice The rejected price.
    error TaskMarketInvalidMaxPrice(uint256 maxPrice);

    /// @notice collateral is below the configured minimum.
    /// @param collateral The rejected collateral.
    /// @param minCollateral The configured minimum.
    error TaskMarketCollateralTooLow(uint256 collateral, uint256 minCollateral);

    /// @notice The bidding window is out of the configured bounds.
    /// @param window The rejected window, seconds.
    /// @param minWindow The configured minimum.
    /// @param maxWindow The configured maximum.
    error TaskMarketInvalidBiddingWindow(uint32 window, uint32 minWindow, uint32 maxWindow);

    /// @notice The checkpoint window is out of the configured bounds.
    /// @param window The rejected window, seconds.
    /// @param minWindow The configured minimum.
    /// @param maxWindow The configured maximum.
    error TaskMarketInvalidCheckpointWindow(uint32 window, uint32 minWindow, uint32 maxWindow);

    /// @notice The commit or the reveal window is out of the configured bounds.
    /// @param window The rejected window, seconds.
    /// @param minWindow The configured minimum.
    /// @param maxWindow The configured maximum.
    error TaskMarketInvalidVerdictWindow(uint32 window, uint32 minWindow, uint32 maxWindow);

    /// @notice The late-penalty deadlines are inconsistent: need both 0, or
    ///         softDeadline < hardDeadline <= MAX_DURATION.
    /// @param softDeadline The given soft deadline (seconds after assignment).
    /// @param hardDeadline The given hard deadline (seconds after assignment).
    error TaskMarketInvalidDeadlines(uint32 softDeadline, uint32 hardDeadline);

    /// @notice No task has this id.
    /// @param taskId The id.
    error TaskMarketUnknownTask(uint256 taskId);

    /// @notice The task is not in the state the call needs.
    /// @param taskId The task.
    /// @param status Its state.
    /// @param expected The state the call needs.
    error TaskMarketUnexpectedStatus(uint256 taskId, Status status, Status expected);

    /// @notice The bidding window is over.
    /// @param taskId The task.
    /// @param biddingEnd When it ended.
    error TaskMarketBiddingClosed(uint256 taskId, uint64 biddingEnd);

    /// @notice The task holds maxBids bids and this one is not below the highest of them (only
    ///         a lower bid can take a place, by evicting the highest).
    /// @param taskId The task.
    /// @param price The refused bid's price.
    /// @param highestPrice The highest bid held.
    error TaskMarketBidNotBelowHighest(uint256 taskId, uint256 price, uint256 highestPrice);

    /// @notice The client may not bid on its own task.
    /// @param taskId The task.
    /// @param client The client.
    error TaskMarketClientCannotBid(uint256 taskId, address client);

    /// @notice The bid is above the task's max price.
    /// @param taskId The task.
    /// @param price The bid's price.
    /// @param maxPrice The task's max price.
    error TaskMarketBidTooHigh(uint256 taskId, uint256 price, uint256 maxPrice);

    /// @notice The provider already bid on this task.
    /// @param taskId The task.
    /// @param provider The provider.
    error TaskMarketAlreadyBid(uint256 taskId, address provider);

    /// @notice Neither halting condition holds yet: bids < maxBids and the window is running.
    /// @param taskId The task.
    /// @param biddingEnd When the window ends.
    /// @param bidCount Bids so far.
    /// @param maxBids The cap.
    error TaskMarketBiddingNotOver(uint256 taskId, uint64 biddingEnd, uint8 bidCount, uint8 maxBids);

    /// @notice The task's minimum open time is not over: nobody may assign it yet.
    /// @param taskId The task.
    /// @param assignableAt When it may be assigned.
    error TaskMarketOpenTimeNotOver(uint256 taskId, uint64 assignableAt);

    /// @notice The window ended without a bid: use expire.
    /// @param taskId The task.
    /// @param bidCount Bids placed.
    error TaskMarketNotEnoughBids(uint256 taskId, uint8 bidCount);

    /// @notice The task has enough bids to be assigned (expire) or has bids (cancel).
    /// @param taskId The task.
    /// @param bidCount Bids placed.
    error TaskMarketHasBids(uint256 taskId, uint8 bidCount);

    /// @notice Only the task's client may do this.
    /// @param taskId The task.
    /// @param account The caller.
    error TaskMarketNotClient(uint256 taskId, address account);

    /// @notice Only the task's executor may do this.
    /// @param taskId The task.
    /// @param account The caller.
    error TaskMarketNotExecutor(uint256 taskId, address account);

    /// @notice Only a council member of the task may do this.
    /// @param taskId The task.
    /// @param account The caller.
    error TaskMarketNotCouncilMember(uint256 taskId, address account);

    /// @notice Checkpoints are committed in order; this is not the next one.
    /// @param taskId The task.
    /// @param k The checkpoint given.
    /// @param expected The next checkpoint.
    error TaskMarketWrongCheckpoint(uint256 taskId, uint256 k, uint256 expected);

    /// @notice Checkpoint k's verdict round is still open: it must be finalized first.
    /// @param taskId The task.
    /// @param k The checkpoint being voted on.
    error TaskMarketRoundInProgress(uint256 taskId, uint256 k);

    /// @notice Checkpoint k has no open verdict round.
    /// @param taskId The task.
    /// @param k The checkpoint given.
    error TaskMarketNoOpenRound(uint256 taskId, uint256 k);

    /// @notice The commit deadline of checkpoint k has passed.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param deadline The deadline.
    error TaskMarketDeadlinePassed(uint256 taskId, uint256 k, uint64 deadline);

    /// @notice The commit deadline of checkpoint k has not passed yet.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param deadline The deadline.
    error TaskMarketDeadlineNotPassed(uint256 taskId, uint256 k, uint64 deadline);

    /// @notice A checkpoint's result root may not be zero.
    /// @param taskId The task.
    /// @param k The checkpoint.
    error TaskMarketZeroResultRoot(uint256 taskId, uint256 k);

    /// @notice No checkpoint k on this task.
    /// @param taskId The task.
    /// @param k The checkpoint given.
    /// @param checkpoints The task's number of checkpoints.
    error TaskMarketInvalidCheckpoint(uint256 taskId, uint256 k, uint8 checkpoints);

    // ---------------------------------------------------------------- events

    /// @notice The configuration was set (constructor or admin).
    /// @param config The new configuration.
    event ConfigUpdated(Config config);

    /// @notice A task was submitted and its escrow pulled from the client.
    /// @param taskId The new task's id.
    /// @param client The client.
    /// @param params Everything the client submitted.
    /// @param biddingEnd Timestamp at which bidding stops.
    /// @param escrow Tokens escrowed: maxPrice + councilFeePerVote * councilSize * checkpoints.
    /// @param nonRevealSlash Amount slashed per unrevealed verdict on this task.
    /// @param slashRewardBps Reject voters' share of a slashed executor's collateral on this task.
    /// @param assignableAt Timestamp before which the task cannot be assigned (minOpenTime).
    event TaskSubmitted(
        uint256 indexed taskId,
        address indexed client,
        TaskParams params,
        uint64 biddingEnd,
        uint64 assignableAt,
        uint256 escrow,
        uint256 nonRevealSlash,
        uint16 slashRewardBps
    );

    /// @notice A bid was placed; the task's collateral was locked in the registry.
    /// @param taskId The task.
    /// @param provider The bidder.
    /// @param bidIndex The bid's index (0-based): bidCount - 1 below the cap, else the index of
    ///        the bid it evicted (BidEvicted, emitted just before).
    /// @param price The price.
    /// @dev The best bid afterwards follows from these events (the lowest price, the earliest
    ///      among equals: a bid becomes the best iff its price is below the best so far), so it
    ///      is not repeated here (two words, ~540 gas of the 80k bid budget); bestBid() reads it.
    event BidPlaced(uint256 indexed taskId, address indexed provider, uint8 bidIndex, uint256 price);

    /// @notice The highest bid was evicted by a lower one at the cap; its collateral was released.
    /// @param taskId The task.
    /// @param provider The evicted bidder (it may bid again).
    /// @param bidIndex Its index, which the new bid takes.
    /// @param price Its price.
    event BidEvicted(uint256 indexed taskId, address indexed provider, uint8 bidIndex, uint256 price);

    /// @notice The task was assigned. Every bidder but the executor had its collateral
    ///         released. The council is drawn from the model's pool by {seatCouncil}, in a later block.
    /// @param taskId The task.
    /// @param executor The executor (best bid).
    /// @param bidIndex The executor's bid index.
    /// @param price The executor's price.
    /// @param drawBlock This block: its hash seeds the council draw, over the pool as of drawBlock - 1.
    event TaskAssigned(
        uint256 indexed taskId, address indexed executor, uint8 bidIndex, uint256 price, uint256 drawBlock
    );

    /// @notice A council was seated for checkpoint k: drawn stake-weighted from the model's
    ///         pool as of drawBlock - 1 with keccak256(abi.encode(blockhash(drawBlock), taskId)),
    ///         the executor and the client excluded; each member had `collateral` locked.
    /// @param taskId The task.
    /// @param k The checkpoint it judges first (0, or the checkpoint whose round was re-drawn).
    /// @param council The members, seat by seat.
    /// @param drawBlock The block whose hash seeded the draw.
    /// @param deadline The executor's commit deadline of checkpoint 0 when this is the first
    ///        council (the task's clock starts now); 0 for a re-drawn council (its round opens now).
    event CouncilSeated(uint256 indexed taskId, uint256 k, address[] council, uint256 drawBlock, uint64 deadline);

    /// @notice The council draw's seed block was over 256 blocks old (its hash is gone): the
    ///         draw now uses `drawBlock`. Call {seatCouncil} again in a later block.
    /// @param taskId The task.
    /// @param previousBlock The old draw block.
    /// @param drawBlock The new draw block (this block).
    event CouncilDrawReanchored(uint256 indexed taskId, uint256 previousBlock, uint256 drawBlock);

    /// @notice Checkpoint k's round ended without a majority either way (silence, a tie): its
    ///         council was released (non-revealers slashed) and a new one will be drawn, once, to
    ///         judge the same result root. No fees were paid for the round.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param approvals Revealed "accept" verdicts in the undecided round.
    /// @param rejections Revealed "reject" verdicts in it.
    /// @param drawBlock This block: its hash seeds the new draw.
    event CouncilRedrawn(uint256 indexed taskId, uint256 indexed k, uint8 approvals, uint8 rejections, uint256 drawBlock);

    /// @notice The executor committed checkpoint k; its verdict round opened.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param resultRoot Merkle root of the segment's outputs.
    /// @param seedBlock The commit's block: sampling seed = blockhash(seedBlock).
    /// @param commitEnd End of the verdict commit phase.
    /// @param revealEnd End of the verdict reveal phase.
    event CheckpointCommitted(
        uint256 indexed taskId, uint256 indexed k, bytes32 resultRoot, uint64 seedBlock, uint64 commitEnd, uint64 revealEnd
    );

    /// @notice A council member committed its verdict on checkpoint k.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param voter The council member.
    /// @param commitment Its commitment.
    event VerdictCommitted(uint256 indexed taskId, uint256 indexed k, address indexed voter, bytes32 commitment);

    /// @notice A council member revealed its verdict on checkpoint k.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param voter The council member.
    /// @param accept The verdict.
    event VerdictRevealed(uint256 indexed taskId, uint256 indexed k, address indexed voter, bool accept);

    /// @notice A council member that did not reveal was slashed (to the client).
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param voter The council member.
    /// @param amount The amount slashed (> 0; not emitted when nothing was left to slash).
    event VoterSlashed(uint256 indexed taskId, uint256 indexed k, address indexed voter, uint256 amount);

    /// @notice Checkpoint k's verdict round was closed and settled.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param accepted The outcome.
    /// @param approvals Revealed "accept" verdicts.
    /// @param rejections Revealed "reject" verdicts.
    /// @param executorPaid Paid to the executor (0 when rejected).
    /// @param latePenalty Share withheld for lateness (stays with the client).
    /// @param feePerVoter Paid to each majority voter (each revealed verdict equal to the outcome).
    /// @param nextDeadline Commit deadline of checkpoint k+1 (0 when none follows).
    event CheckpointFinalized(
        uint256 indexed taskId,
        uint256 indexed k,
        bool accepted,
        uint8 approvals,
        uint8 rejections,
        uint256 executorPaid,
        uint256 latePenalty,
        uint256 feePerVoter,
        uint64 nextDeadline
    );

    /// @notice The task ended successfully: collateral released, escrow left refunded.
    /// @param taskId The task.
    /// @param confirmed True when the client confirmed early.
    /// @param executorPaid Paid to the executor by the confirmation (the unpaid rest of the
    ///        price); 0 when the last checkpoint was accepted (see CheckpointFinalized).
    /// @param clientRefund Refunded to the client.
    event TaskFinalized(uint256 indexed taskId, bool confirmed, uint256 executorPaid, uint256 clientRefund);

    /// @notice The task failed: the executor was slashed when the reason is Rejected or Timeout
    ///         (not when Undecided or NoCouncil: executorSlashed 0), the remaining collateral was
    ///         released, the escrow refunded.
    /// @param taskId The task.
    /// @param k The checkpoint that failed.
    /// @param reason Rejected, Timeout, Undecided or NoCouncil.
    /// @param executorSlashed Collateral slashed from the executor (0 when Undecided or NoCouncil).
    /// @param rewardPerRejecter Paid out of it to each reject voter (0 unless Rejected).
    /// @param slashToClient The rest of it, paid to the client (0 when Undecided or NoCouncil).
    /// @param clientRefund Escrow refunded to the client.
    event TaskFailed(
        uint256 indexed taskId,
        uint256 k,
        FailReason reason,
        uint256 executorSlashed,
        uint256 rewardPerRejecter,
        uint256 slashToClient,
        uint256 clientRefund
    );

    /// @notice The bidding window ended without a bid: escrow refunded.
    /// @param taskId The task.
    /// @param bidCount Bids placed (0).
    /// @param clientRefund Refunded to the client.
    event TaskExpired(uint256 indexed taskId, uint8 bidCount, uint256 clientRefund);

    /// @notice The client cancelled the task before any bid: escrow refunded.
    /// @param taskId The task.
    /// @param clientRefund Refunded to the client.
    event TaskCancelled(uint256 indexed taskId, uint256 clientRefund);

    // ---------------------------------------------------------------- client

    /// @notice Submits a task and escrows maxPrice + councilFeePerVote * councilSize * checkpoints
    ///         from the caller (needs a prior ERC-20 approval).
    /// @dev Reverts on any invalid parameter (TaskMarketMissingHash, ...InvalidSpecUri,
    ///      ...InvalidItemCount, ...InvalidCheckpoints, ...InvalidCouncilSize, ...InvalidMaxBids,
    ///      ...InvalidMaxPrice, ...CollateralTooLow, ...InvalidBiddingWindow,
    ///      ...InvalidCheckpointWindow, ...InvalidVerdictWindow, ...InvalidDeadlines;
    ///      SafeCastOverflowedUintDowncast when collateral, fee or escrow exceed 2^96 - 1).
    /// @param params The task.
    /// @return taskId The new task's id.
    function submit(TaskParams calldata params) external returns (uint256 taskId);

    /// @notice {submit} with an ERC-2612 permit for the escrow. A failing permit (e.g. front-run)
    ///         is ignored: the transfer then needs the allowance to be in place.
    /// @param params The task.
    /// @param deadline The permit's deadline.
    /// @param v The permit signature's v.
    /// @param r The permit signature's r.
    /// @param s The permit signature's s.
    /// @return taskId The new task's id.
    function submitWithPermit(TaskParams calldata params, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        returns (uint256 taskId);

    /// @notice Cancels an Open task with no bid and refunds its escrow. Only the client.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketNotClient, TaskMarketUnexpectedStatus,
    ///      TaskMarketHasBids.
    /// @param taskId The task.
    function cancel(uint256 taskId) external;

    /// @notice Ends an Assigned task in the executor's favour: pays the executor the unpaid rest
    ///         of its price, pays no further council fees, drops an open verdict round, releases
    ///         all collateral and refunds the rest of the escrow. Only the client.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketNotClient, TaskMarketUnexpectedStatus.
    /// @param taskId The task.
    function confirm(uint256 taskId) external;

    // ---------------------------------------------------------------- providers

    /// @notice Bids `price` on an Open task, locking the task's collateral from the caller's
    ///         free stake; at the cap, evicts the highest bid if `price` is below it. Gas is
    ///         O(log maxBids) (<= 80k at every bid index, eviction included: see the gas
    ///         snapshot). One registry call (lockRegistered) checks registration, releases an
    ///         evicted bidder and locks.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketUnexpectedStatus, TaskMarketBiddingClosed,
    ///      TaskMarketBidNotBelowHighest, TaskMarketClientCannotBid, TaskMarketBidTooHigh,
    ///      TaskMarketAlreadyBid, and the registry's ProviderRegistryNotRegistered and
    ///      ProviderRegistryInsufficientFreeStake.
    /// @param taskId The task.
    /// @param price The price asked for the whole task.
    function bid(uint256 taskId, uint256 price) external;

    /// @notice Assigns an Open task once bidCount == maxBids, or once the window is over with at
    ///         least 1 bid, and never before assignableAt: picks the executor, releases the other
    ///         bidders and fixes drawBlock (this block) for {seatCouncil}. Anyone.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketUnexpectedStatus, TaskMarketBiddingNotOver,
    ///      TaskMarketOpenTimeNotOver, TaskMarketNotEnoughBids.
    /// @param taskId The task.
    function assign(uint256 taskId) external;

    /// @notice Seats the council of an Assigned task whose council is not seated (after assign,
    ///         or after an undecided round), in any block after drawBlock. Anyone. Draws
    ///         councilSize members of the model's pool, stake-weighted, as of drawBlock - 1 with
    ///         seed keccak256(abi.encode(blockhash(drawBlock), taskId)), excluding the executor
    ///         and the client and skipping members whose free stake is below the collateral;
    ///         locks the collateral of each. When drawBlock is over 256 blocks old, re-anchors
    ///         the draw to this block instead (CouncilDrawReanchored) and returns. When the pool
    ///         cannot seat a full council, fails the task (NoCouncil): refund, executor released.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketUnexpectedStatus,
    ///      TaskMarketCouncilAlreadySeated, TaskMarketSeatingTooEarly.
    /// @param taskId The task.
    function seatCouncil(uint256 taskId) external;

    /// @notice The executor commits the Merkle root of its outputs for checkpoint k (the next
    ///         one), before its deadline; opens the verdict round.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketUnexpectedStatus, TaskMarketNotExecutor,
    ///      TaskMarketRoundInProgress, TaskMarketWrongCheckpoint, TaskMarketDeadlinePassed,
    ///      TaskMarketZeroResultRoot.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param resultRoot The segment's result root (not zero).
    function commitCheckpoint(uint256 taskId, uint256 k, bytes32 resultRoot) external;

    /// @notice A council member commits its verdict on checkpoint k:
    ///         commitment = {verdictCommitment}(taskId, k, accept, salt, voter).
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketUnexpectedStatus, TaskMarketNoOpenRound,
    ///      TaskMarketNotCouncilMember, VerdictRoundCommitClosed, VerdictRoundAlreadyCommitted.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param commitment The commitment.
    function commitVerdict(uint256 taskId, uint256 k, bytes32 commitment) external;

    /// @notice A council member reveals its verdict on checkpoint k.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketUnexpectedStatus, TaskMarketNoOpenRound,
    ///      TaskMarketNotCouncilMember, VerdictRoundRevealNotStarted, VerdictRoundRevealClosed,
    ///      VerdictRoundNotCommitted, VerdictRoundAlreadyRevealed, VerdictRoundCommitmentMismatch.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param accept The verdict.
    /// @param salt The salt used in the commitment.
    function revealVerdict(uint256 taskId, uint256 k, bool accept, bytes32 salt) external;

    // ---------------------------------------------------------------- anyone

    /// @notice Closes checkpoint k's verdict round once the reveal phase is over (or everyone
    ///         revealed) and settles it: pays or slashes, moves on, re-draws the council (the
    ///         first undecided round), or ends the task (Finalized; Failed Rejected, or Undecided
    ///         the second time, which slashes only the silent seats). Anyone.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketUnexpectedStatus, TaskMarketNoOpenRound,
    ///      VerdictRoundNotOver.
    /// @param taskId The task.
    /// @param k The checkpoint.
    function finalizeCheckpoint(uint256 taskId, uint256 k) external;

    /// @notice Fails an Assigned task whose executor missed the commit deadline of the next
    ///         checkpoint: slashes the executor to the client, releases the council, refunds. Anyone.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketUnexpectedStatus, TaskMarketRoundInProgress,
    ///      TaskMarketDeadlineNotPassed.
    /// @param taskId The task.
    function timeoutCheckpoint(uint256 taskId) external;

    /// @notice Expires an Open task whose bidding window ended without a bid: refunds the
    ///         client. Anyone.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketUnexpectedStatus, TaskMarketBiddingNotOver,
    ///      TaskMarketHasBids.
    /// @param taskId The task.
    function expire(uint256 taskId) external;

    // ---------------------------------------------------------------- admin

    /// @notice Sets the protocol bounds for tasks submitted from now on. Only DEFAULT_ADMIN_ROLE.
    /// @dev Reverts TaskMarketInvalidConfig.
    /// @param config The new configuration.
    function setConfig(Config calldata config) external;

    // ---------------------------------------------------------------- views

    /// @notice Hard cap on bids per task: 64.
    /// @return The cap.
    function MAX_BIDS() external view returns (uint8);

    /// @notice Hard cap on council seats: 15.
    /// @return The cap.
    function MAX_COUNCIL_SIZE() external view returns (uint8);

    /// @notice Hard cap on checkpoints: 32.
    /// @return The cap.
    function MAX_CHECKPOINTS() external view returns (uint8);

    /// @notice Longest window or deadline: 365 days.
    /// @return The duration, seconds.
    function MAX_DURATION() external view returns (uint32);

    /// @notice Longest spec URI: 256 bytes.
    /// @return The length.
    function MAX_SPEC_URI_LENGTH() external view returns (uint256);

    /// @notice The payment token (the registry's staking token).
    /// @return The token.
    function token() external view returns (IERC20);

    /// @notice The provider registry.
    /// @return The registry.
    function registry() external view returns (IProviderRegistry);

    /// @notice The current configuration.
    /// @return The configuration.
    function config() external view returns (Config memory);

    /// @notice The id the next submitted task will get (ids start at 1).
    /// @return The id.
    function nextTaskId() external view returns (uint256);

    /// @notice A task (status None and zeros when unknown).
    /// @param taskId The task.
    /// @return The task.
    function getTask(uint256 taskId) external view returns (Task memory);

    /// @notice Bids placed on a task.
    /// @param taskId The task.
    /// @return The count.
    function bidCount(uint256 taskId) external view returns (uint256);

    /// @notice Bid `index` of a task (zeros when out of range).
    /// @param taskId The task.
    /// @param index The bid index.
    /// @return The bid.
    function getBid(uint256 taskId, uint256 index) external view returns (Bid memory);

    /// @notice The best bid so far (found = false when no bid).
    /// @param taskId The task.
    /// @return found Whether there is a bid.
    /// @return index Its index.
    /// @return bestBid_ The bid.
    function bestBid(uint256 taskId) external view returns (bool found, uint8 index, Bid memory bestBid_);

    /// @notice The council, seat by seat (empty before assignment).
    /// @param taskId The task.
    /// @return The council members.
    function councilOf(uint256 taskId) external view returns (address[] memory);

    /// @notice Checkpoint k of a task.
    /// @dev Reverts TaskMarketUnknownTask, TaskMarketInvalidCheckpoint.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @return The checkpoint.
    function checkpointOf(uint256 taskId, uint256 k) external view returns (Checkpoint memory);

    /// @notice `voter`'s verdict on checkpoint k.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param voter The account.
    /// @return The verdict.
    function verdictOf(uint256 taskId, uint256 k, address voter) external view returns (Verdict memory);

    /// @notice The verdict round id of checkpoint k's current round: taskId << 8 | k, plus 0x80
    ///         once its council was re-drawn (the second round of k).
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @return The round id.
    function roundIdOf(uint256 taskId, uint256 k) external view returns (uint256);

    /// @notice The commitment `voter` must submit for `accept` and `salt` on checkpoint k:
    ///         keccak256(abi.encode(block.chainid, address(this), roundIdOf(taskId, k), accept, salt, voter)).
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param accept The verdict.
    /// @param salt A secret random salt.
    /// @param voter The council member.
    /// @return The commitment.
    function verdictCommitment(uint256 taskId, uint256 k, bool accept, bytes32 salt, address voter)
        external
        view
        returns (bytes32);

    /// @notice blockhash(seedBlock) of checkpoint k: the sampling seed. Zero until the block
    ///         after the commit, and again once the block is more than 256 blocks old (then take
    ///         the block's hash from a node: eth_getBlockByNumber(seedBlock)).
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @return The seed.
    function sampleSeed(uint256 taskId, uint256 k) external view returns (bytes32);

    /// @notice A council member's own sampling seed: keccak256(abi.encode(sampleSeed, member));
    ///         zero while sampleSeed is zero.
    /// @param taskId The task.
    /// @param k The checkpoint.
    /// @param member The council member.
    /// @return The seed.
    function memberSampleSeed(uint256 taskId, uint256 k, address member) external view returns (bytes32);

    /// @notice Collateral this market holds locked for `provider` on `taskId` (its own ledger;
    ///         the registry only keeps the provider's total).
    /// @param taskId The task.
    /// @param provider The provider.
    /// @return The amount.
    function lockedFor(uint256 taskId, address provider) external view returns (uint256);
}
