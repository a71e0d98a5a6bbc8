// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {ITaskMarket} from "./interfaces/ITaskMarket.sol";
import {BidTree} from "./libraries/BidTree.sol";
import {VerdictRound} from "./libraries/VerdictRound.sol";
import {
    TASK_MAX_BIDS,
    TASK_MAX_COUNCIL_SIZE,
    TASK_MAX_CHECKPOINTS,
    TASK_MAX_DURATION,
    TASK_MAX_SPEC_URI_LENGTH,
    TaskMarketRules
} from "./TaskMarketRules.sol";

/// @title TaskMarket
/// @notice The batch task market: submit, bid, assign, per-checkpoint verdict rounds, and
///         settlement. See {ITaskMarket} for the rules and contracts/README.md for the design.
/// @dev Storage is laid out for the bid path: everything a bid reads sits in three task slots
///      and the only task slot it writes (slot 0: counters, the best bid and the bid tree) is
///      never zero once the task exists. A bid below the cap adds two new slots: the bid
///      (provider, price) and the bidder's participant record (index, seat, lock); an eviction
///      overwrites the evicted bid's slot instead. The bid tree ({BidTree}) reads at most 3
///      prices to insert and 7 to evict, so gas grows with log(maxBids), never with the count,
///      and stays <= 80k (TaskMarketGas.t.sol). One registry call per bid (lockRegistered).
///      An evicted bidder's participant record is left as it was (saving a write): a record
///      counts only while the bid slot it points at names its provider (see _isBidder).
///      Every loop is bounded by the bid count (<= 64) or the council size (<= 15).
///      Amounts are stored as uint96 (as in the registry).
contract TaskMarket is ITaskMarket, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using VerdictRound for VerdictRound.Rounds;

    /// @inheritdoc ITaskMarket
    uint8 public constant MAX_BIDS = TASK_MAX_BIDS;
    /// @inheritdoc ITaskMarket
    uint8 public constant MAX_COUNCIL_SIZE = TASK_MAX_COUNCIL_SIZE;
    /// @inheritdoc ITaskMarket
    uint8 public constant MAX_CHECKPOINTS = TASK_MAX_CHECKPOINTS;
    /// @inheritdoc ITaskMarket
    uint32 public constant MAX_DURATION = TASK_MAX_DURATION;
    /// @inheritdoc ITaskMarket
    uint256 public constant MAX_SPEC_URI_LENGTH = TASK_MAX_SPEC_URI_LENGTH;

    uint256 private constant BPS = 10_000;
    /// @dev A checkpoint that no majority of its council accepts is rejected (ties and silence included).
    bool private constant ACCEPT_WITHOUT_MAJORITY = false;
    /// @dev Round id bit of a checkpoint's second (re-drawn) round.
    uint256 private constant REDRAW_BIT = 0x80;

    /// @dev A task in storage. Slot boundaries are marked; see the contract's @dev.
    struct TaskStore {
        // slot 0: read and written by every bid; later the checkpoint progress
        Status status;
        uint8 bidCount;
        uint8 bestIndex;
        uint8 maxBids;
        uint40 biddingEnd;
        uint96 bestPrice; // type(uint96).max until the first bid (maxPrice is below it)
        uint8 councilSize;
        uint8 checkpoints;
        uint64 bidTree; // BidTree bits: which child holds each inner node's highest bid
        // slot 1: read by every bid
        address client;
        uint96 maxPrice;
        // slot 2: read by every bid
        uint96 collateral;
        uint96 escrow;
        uint32 itemCount;
        uint16 slashRewardBps;
        // slot 3
        uint96 councilFeePerVote;
        uint96 nonRevealSlash;
        uint32 checkpointWindow;
        uint32 commitWindow;
        // slot 4
        uint32 revealWindow;
        uint32 softDeadline;
        uint32 hardDeadline;
        uint40 assignedAt; // set by assign, reset when the first council is seated (the task's clock)
        uint64 drawBlock; // the block whose hash seeds the next council draw (the pool as of drawBlock - 1)
        bool seated; // whether the council of the current round is seated
        uint32 redrawn; // bit k: checkpoint k's council was re-drawn after an undecided round
        // slot 5: the checkpoint progress (and, while Open, when assign is allowed)
        uint8 councilCount;
        uint8 nextCheckpoint;
        bool voting;
        uint40 deadline;
        uint40 assignableAt;
        // slots 6..9
        bytes32 specHash;
        bytes32 dataRoot;
        bytes32 modelHash;
        string specUri;
    }

    /// @dev A bidder's record on a task: one slot.
    struct Participant {
        uint8 index1; // bid index + 1; 0 = no bid
        uint8 seat1; // council seat + 1; 0 = not in the council
        uint96 locked; // collateral this market holds locked for it on this task
    }

    IERC20 private immutable _token;
    IProviderRegistry private immutable _registry;
    /// @dev The parameter rules, deployed by the constructor: their code is in this contract's
    ///      creation code, not in its runtime code (which is near the EIP-170 limit).
    TaskMarketRules private immutable _rules;

    Config private _config;
    uint256 private _nextTaskId = 1;

    mapping(uint256 taskId => TaskStore) private _tasks;
    mapping(uint256 taskId => BidTree.Bid[64]) private _bids;
    mapping(uint256 taskId => mapping(address provider => Participant)) private _participants;
    mapping(uint256 roundId => bytes32) private _resultRoots;
    mapping(uint256 taskId => address[16]) private _councils;
    VerdictRound.Rounds private _rounds;

    /// @param token_ The payment token: must be the registry's staking token (oGPU), with ERC-2612
    ///        for submitWithPermit.
    /// @param registry_ The provider registry; the admin must grant this market MARKET_ROLE there.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (setConfig).
    /// @param config_ The initial protocol bounds.
    constructor(IERC20 token_, IProviderRegistry registry_, address admin, Config memory config_) {
        if (address(registry_) == address(0)) revert TaskMarketInvalidRegistry(address(registry_));
        address registryToken = address(registry_.token());
        if (address(token_) != registryToken) revert TaskMarketTokenMismatch(address(token_), registryToken);
        if (admin == address(0)) revert TaskMarketInvalidAdmin(admin);
        _token = token_;
        _registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _rules = new TaskMarketRules();
        _setConfig(config_);
    }

    // ================================================================== client

    /// @inheritdoc ITaskMarket
    function submit(TaskParams calldata params) external nonReentrant returns (uint256 taskId) {
        uint256 escrow;
        (taskId, escrow) = _submit(params);
        _token.safeTransferFrom(msg.sender, address(this), escrow);
    }

    /// @inheritdoc ITaskMarket
    function submitWithPermit(TaskParams calldata params, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
        returns (uint256 taskId)
    {
        uint256 escrow;
        (taskId, escrow) = _submit(params);
        // A front-run permit makes this call fail; the allowance it set is what we need anyway.
        try IERC20Permit(address(_token)).permit(msg.sender, address(this), escrow, deadline, v, r, s) {} catch {}
        _token.safeTransferFrom(msg.sender, address(this), escrow);
    }

    /// @inheritdoc ITaskMarket
    function cancel(uint256 taskId) external nonReentrant {
        TaskStore storage t = _tasks[taskId];
        Status status = t.status;
        if (status == Status.None) revert TaskMarketUnknownTask(taskId);
        address client = t.client;
        if (msg.sender != client) revert TaskMarketNotClient(taskId, msg.sender);
        if (status != Status.Open) revert TaskMarketUnexpectedStatus(taskId, status, Status.Open);
        if (t.bidCount != 0) revert TaskMarketHasBids(taskId, t.bidCount);
        t.status = Status.Cancelled;
        uint256 refund = _takeEscrow(t);
        emit TaskCancelled(taskId, refund);
        _pay(client, refund);
    }

    /// @inheritdoc ITaskMarket
    function confirm(uint256 taskId) external nonReentrant {
        TaskStore storage t = _tasks[taskId];
        Status status = t.status;
        if (status == Status.None) revert TaskMarketUnknownTask(taskId);
        if (msg.sender != t.client) revert TaskMarketNotClient(taskId, msg.sender);
        if (status != Status.Assigned) revert TaskMarketUnexpectedStatus(taskId, status, Status.Assigned);
        uint256 next = t.nextCheckpoint;
        if (t.voting) {
            t.voting = false;
            // (a round waiting for its re-drawn council is not open yet)
            if (t.seated) _rounds.cancel(roundIdOf(taskId, next));
        }
        uint256 price = t.bestPrice;
        uint256 remaining = price - _cumulativeShare(price, t.itemCount, t.checkpoints, next);
        t.escrow -= uint96(remaining);
        _pay(_executorOf(taskId, t), remaining);
        _finish(taskId, t, true, remaining);
    }

    // ================================================================== providers

    /// @inheritdoc ITaskMarket
    /// @dev No reentrancy guard (it costs ~350 gas of the 80k budget): the only call out is the
    ///      last statement, to the registry fixed at construction, and bid moves no tokens.
    function bid(uint256 taskId, uint256 price) external {
        TaskStore storage t = _tasks[taskId];
        Status status = t.status;
        if (status != Status.Open) _revertStatus(taskId, status, Status.Open);
        uint40 biddingEnd = t.biddingEnd;
        if (block.timestamp >= biddingEnd) revert TaskMarketBiddingClosed(taskId, biddingEnd);
        if (msg.sender == t.client) revert TaskMarketClientCannotBid(taskId, msg.sender);
        uint96 maxPrice = t.maxPrice;
        if (price > maxPrice) revert TaskMarketBidTooHigh(taskId, price, maxPrice);
        BidTree.Bid[64] storage bids = _bids[taskId];
        Participant storage p = _participants[taskId][msg.sender];
        if (_isBidder(bids, p.index1, msg.sender)) revert TaskMarketAlreadyBid(taskId, msg.sender);

        uint96 collateral = t.collateral;
        uint256 n = t.bidCount;
        uint256 tree = t.bidTree;
        uint256 bestIndex = t.bestIndex;
        uint256 bestPrice = t.bestPrice;
        uint256 index;
        address evicted;
        if (n < t.maxBids) {
            index = n;
            tree = BidTree.insert(tree, bids, n, price, bestPrice);
            ++n;
        } else {
            index = BidTree.highest(tree);
            BidTree.Bid storage top = bids[index];
            uint256 topPrice = top.price;
            if (price >= topPrice) revert TaskMarketBidNotBelowHighest(taskId, price, topPrice);
            evicted = top.provider;
            tree = BidTree.update(tree, bids, n, index, price);
            _logBid(BidEvicted.selector, taskId, evicted, index, topPrice); // BidEvicted
        }
        // An evicted best bid held the highest price, so every bid had it and the new one is lower.
        if (price < bestPrice) {
            bestIndex = index;
            bestPrice = price;
        }
        // Slot 0 written in one go.
        t.bidCount = uint8(n);
        t.bestIndex = uint8(bestIndex);
        t.bestPrice = uint96(bestPrice);
        t.bidTree = uint64(tree);
        bids[index] = BidTree.Bid({provider: msg.sender, price: uint96(price)});
        p.index1 = uint8(index + 1);
        p.seat1 = 0;
        p.locked = collateral;
        _logBid(BidPlaced.selector, taskId, msg.sender, index, price); // BidPlaced
        // Registration is checked there, with the lock, in the slot the lock reads anyway.
        _lockRegistered(msg.sender, collateral, evicted);
    }

    /// @dev Emits BidPlaced or BidEvicted (same layout: taskId and provider indexed, then the
    ///      bid index and the price), written in assembly for the bid's gas and code size.
    function _logBid(bytes32 topic, uint256 taskId, address provider, uint256 index, uint256 price) private {
        assembly ("memory-safe") {
            mstore(0, index)
            mstore(32, price)
            log3(0, 64, topic, taskId, provider)
        }
    }

    /// @dev registry.lockRegistered(provider, amount, released), its revert bubbled up. In
    ///      assembly to fit the bid's 80k gas and the contract's 24,576 bytes: no code-size
    ///      check (the constructor called the registry, so it has code) and no return data.
    function _lockRegistered(address provider, uint256 amount, address released) private {
        IProviderRegistry registry = _registry;
        bytes4 selector = IProviderRegistry.lockRegistered.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 4), provider)
            mstore(add(m, 36), amount)
            mstore(add(m, 68), released)
            if iszero(call(gas(), registry, 0, m, 100, 0, 0)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @inheritdoc ITaskMarket
    function assign(uint256 taskId) external nonReentrant {
        TaskStore storage t = _tasks[taskId];
        _requireStatus(t, taskId, Status.Open);
        uint8 n = t.bidCount;
        if (n < t.maxBids) {
            if (block.timestamp < t.biddingEnd) revert TaskMarketBiddingNotOver(taskId, t.biddingEnd, n, t.maxBids);
            if (n == 0) revert TaskMarketNotEnoughBids(taskId, n);
        }
        uint40 assignableAt = t.assignableAt;
        if (block.timestamp < assignableAt) revert TaskMarketOpenTimeNotOver(taskId, assignableAt);
        uint256 executorIndex = t.bestIndex;
        t.status = Status.Assigned;
        t.assignedAt = uint40(block.timestamp);
        t.drawBlock = uint64(block.number);
        BidTree.Bid[64] storage bids = _bids[taskId];
        emit TaskAssigned(taskId, bids[executorIndex].provider, uint8(executorIndex), t.bestPrice, block.number);

        // Release every other bidder (their Participant.locked is ignored from now on: see lockedFor).
        uint96 collateral = t.collateral;
        for (uint256 i; i < n; ++i) {
            if (i != executorIndex) _registry.unlock(bids[i].provider, collateral);
        }
    }

    /// @inheritdoc ITaskMarket
    function seatCouncil(uint256 taskId) external nonReentrant {
        TaskStore storage t = _tasks[taskId];
        _requireStatus(t, taskId, Status.Assigned);
        if (t.seated) revert TaskMarketCouncilAlreadySeated(taskId);
        uint256 drawBlock = t.drawBlock;
        if (block.number <= drawBlock) revert TaskMarketSeatingTooEarly(taskId, drawBlock);
        bytes32 hash = blockhash(drawBlock);
        if (hash == bytes32(0)) {
            // Over 256 blocks ago: the seed is gone. Draw from a later block instead.
            t.drawBlock = uint64(block.number);
            emit CouncilDrawReanchored(taskId, drawBlock, block.number);
            return;
        }
        uint256 k = t.nextCheckpoint;
        address[] memory exclude = new address[](2);
        exclude[0] = _executorOf(taskId, t);
        exclude[1] = t.client;
        uint256 collateral = t.collateral;
        uint256 seats = t.councilSize;
        address[] memory members = _registry.drawBackedCouncil(
            t.modelHash, drawBlock - 1, keccak256(abi.encode(hash, taskId)), seats, exclude, collateral
        );
        if (members.length < seats) {
            // Nobody is at fault: nobody is slashed.
            _fail(taskId, k, t, FailReason.NoCouncil, 0, 0);
            return;
        }
        t.seated = true;
        t.councilCount = uint8(seats);
        address[16] storage council = _councils[taskId];
        mapping(address => Participant) storage participants = _participants[taskId];
        for (uint256 s; s < seats; ++s) {
            address m = members[s];
            council[s] = m;
            Participant storage p = participants[m];
            p.seat1 = uint8(s + 1);
            p.locked = uint96(collateral);
        }
        uint40 deadline;
        bool redraw = t.voting;
        if (!redraw) {
            // The task's clock starts with its first council: slow seating costs the executor nothing.
            t.assignedAt = uint40(block.timestamp);
            deadline = _commitDeadline(t, block.timestamp);
            t.deadline = deadline;
        }
        emit CouncilSeated(taskId, k, members, drawBlock, deadline);
        // A re-drawn council judges the root already committed: its round opens now.
        if (redraw) _openRound(taskId, k, t, _resultRoots[_roundId(taskId, k, false)]);
        for (uint256 s; s < seats; ++s) {
            _registry.lock(members[s], collateral);
        }
    }

    /// @inheritdoc ITaskMarket
    function commitCheckpoint(uint256 taskId, uint256 k, bytes32 resultRoot) external nonReentrant {
        TaskStore storage t = _tasks[taskId];
        _requireStatus(t, taskId, Status.Assigned);
        if (msg.sender != _executorOf(taskId, t)) revert TaskMarketNotExecutor(taskId, msg.sender);
        uint256 next = t.nextCheckpoint;
        if (t.voting) revert TaskMarketRoundInProgress(taskId, next);
        if (!t.seated) revert TaskMarketCouncilNotSeated(taskId);
        if (k != next) revert TaskMarketWrongCheckpoint(taskId, k, next);
        uint40 deadline = t.deadline;
        if (block.timestamp >= deadline) revert TaskMarketDeadlinePassed(taskId, k, deadline);
        if (resultRoot == bytes32(0)) revert TaskMarketZeroResultRoot(taskId, k);
        _openRound(taskId, k, t, resultRoot);
    }

    /// @inheritdoc ITaskMarket
    function commitVerdict(uint256 taskId, uint256 k, bytes32 commitment) external nonReentrant {
        uint256 seat = _voterSeat(taskId, k, msg.sender);
        _rounds.commit(roundIdOf(taskId, k), seat, msg.sender, commitment);
        emit VerdictCommitted(taskId, k, msg.sender, commitment);
    }

    /// @inheritdoc ITaskMarket
    function revealVerdict(uint256 taskId, uint256 k, bool accept, bytes32 salt) external nonReentrant {
        uint256 seat = _voterSeat(taskId, k, msg.sender);
        _rounds.reveal(roundIdOf(taskId, k), seat, msg.sender, accept, salt);
        emit VerdictRevealed(taskId, k, msg.sender, accept);
    }

    // ================================================================== anyone

    /// @inheritdoc ITaskMarket
    function finalizeCheckpoint(uint256 taskId, uint256 k) external nonReentrant {
        TaskStore storage t = _tasks[taskId];
        _requireStatus(t, taskId, Status.Assigned);
        if (!t.voting || k != t.nextCheckpoint) revert TaskMarketNoOpenRound(taskId, k);
        if (!t.seated) revert TaskMarketCouncilNotSeated(taskId);
        // The executor carries the burden of proof: without a majority of the seats for accept, reject.
        bool redrawn = _redrawn(t, k);
        (VerdictRound.Round memory r, uint256 approvals, uint256 rejections) =
            _rounds.close(_roundId(taskId, k, redrawn), ACCEPT_WITHOUT_MAJORITY);
        bool accepted = r.state == VerdictRound.State.Accepted;
        uint256 seats = t.councilCount;
        // Decided: a strict majority of the seats either way. Undecided rounds pay no fees, so a
        // re-drawn round still has this checkpoint's fee budget.
        bool decided = accepted || rejections * 2 > seats;

        // Majority voters split this checkpoint's council fees; non-revealers are slashed.
        uint256 majority = accepted ? approvals : rejections;
        uint256 feePerVoter;
        if (decided) {
            feePerVoter = uint256(t.councilFeePerVote) * seats / majority;
            t.escrow -= uint96(feePerVoter * majority);
        }
        _settleCouncil(taskId, k, t, r, accepted, feePerVoter);

        if (!decided && !redrawn) {
            // Silence or a tie: not the executor's fault as such. Draw a fresh council once.
            _releaseCouncil(taskId, t, true);
            t.redrawn |= uint32(1 << k);
            t.seated = false;
            t.councilCount = 0;
            t.drawBlock = uint64(block.number);
            emit CouncilRedrawn(taskId, k, uint8(approvals), uint8(rejections), block.number);
            return;
        }
        t.voting = false;

        if (accepted) {
            (uint256 paid, uint256 penalty, uint40 nextDeadline) =
                _acceptCheckpoint(taskId, k, t, _committedAt(taskId, k, redrawn, r));
            emit CheckpointFinalized(
                taskId, k, true, uint8(approvals), uint8(rejections), paid, penalty, feePerVoter, nextDeadline
            );
            if (k + 1 == t.checkpoints) _finish(taskId, t, false, 0);
        } else {
            emit CheckpointFinalized(taskId, k, false, uint8(approvals), uint8(rejections), 0, 0, feePerVoter, 0);
            _fail(
                taskId, k, t, decided ? FailReason.Rejected : FailReason.Undecided, r.revealed & ~r.accepts, rejections
            );
        }
    }

    /// @inheritdoc ITaskMarket
    function timeoutCheckpoint(uint256 taskId) external nonReentrant {
        TaskStore storage t = _tasks[taskId];
        _requireStatus(t, taskId, Status.Assigned);
        uint256 k = t.nextCheckpoint;
        if (t.voting) revert TaskMarketRoundInProgress(taskId, k);
        if (!t.seated) revert TaskMarketCouncilNotSeated(taskId);
        uint40 deadline = t.deadline;
        if (block.timestamp < deadline) revert TaskMarketDeadlineNotPassed(taskId, k, deadline);
        _fail(taskId, k, t, FailReason.Timeout, 0, 0);
    }

    /// @inheritdoc ITaskMarket
    function expire(uint256 taskId) external nonReentrant {
        TaskStore storage t = _tasks[taskId];
        _requireStatus(t, taskId, Status.Open);
        uint8 n = t.bidCount;
        if (block.timestamp < t.biddingEnd) revert TaskMarketBiddingNotOver(taskId, t.biddingEnd, n, t.maxBids);
        if (n != 0) revert TaskMarketHasBids(taskId, n);
        t.status = Status.Expired;
        uint256 refund = _takeEscrow(t);
        emit TaskExpired(taskId, n, refund);
        _pay(t.client, refund);
    }

    // ================================================================== admin

    /// @inheritdoc ITaskMarket
    function setConfig(Config calldata config_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setConfig(config_);
    }

    // ================================================================== views

    /// @inheritdoc ITaskMarket
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @inheritdoc ITaskMarket
    function registry() external view returns (IProviderRegistry) {
        return _registry;
    }

    /// @inheritdoc ITaskMarket
    function config() external view returns (Config memory) {
        return _config;
    }

    /// @inheritdoc ITaskMarket
    function nextTaskId() external view returns (uint256) {
        return _nextTaskId;
    }

    /// @inheritdoc ITaskMarket
    function getTask(uint256 taskId) external view returns (Task memory task) {
        TaskStore storage t = _tasks[taskId];
        task.client = t.client;
        task.status = t.status;
        task.specHash = t.specHash;
        task.specUri = t.specUri;
        task.dataRoot = t.dataRoot;
        task.modelHash = t.modelHash;
        task.itemCount = t.itemCount;
        task.checkpoints = t.checkpoints;
        task.councilSize = t.councilSize;
        task.maxBids = t.maxBids;
        task.maxPrice = t.maxPrice;
        task.councilFeePerVote = t.councilFeePerVote;
        task.collateral = t.collateral;
        task.biddingEnd = t.biddingEnd;
        task.assignableAt = t.assignableAt;
        task.checkpointWindow = t.checkpointWindow;
        task.commitWindow = t.commitWindow;
        task.revealWindow = t.revealWindow;
        task.softDeadline = t.softDeadline;
        task.hardDeadline = t.hardDeadline;
        task.nonRevealSlash = t.nonRevealSlash;
        task.slashRewardBps = t.slashRewardBps;
        task.escrow = t.escrow;
        task.bidCount = t.bidCount;
        if (t.bidCount != 0) {
            task.bestIndex = t.bestIndex;
            task.bestPrice = t.bestPrice;
        }
        if (t.assignedAt != 0) {
            task.executor = _executorOf(taskId, t);
            task.price = t.bestPrice;
            task.assignedAt = t.assignedAt;
            task.councilCount = t.councilCount;
            task.nextCheckpoint = t.nextCheckpoint;
            task.voting = t.voting;
            task.deadline = t.deadline;
            task.councilSeated = t.seated;
        }
    }

    /// @inheritdoc ITaskMarket
    function bidCount(uint256 taskId) external view returns (uint256) {
        return _tasks[taskId].bidCount;
    }

    /// @inheritdoc ITaskMarket
    function getBid(uint256 taskId, uint256 index) external view returns (Bid memory b) {
        if (index < _tasks[taskId].bidCount) {
            BidTree.Bid memory s = _bids[taskId][index];
            b = Bid({provider: s.provider, price: s.price});
        }
    }

    /// @inheritdoc ITaskMarket
    function bestBid(uint256 taskId) external view returns (bool found, uint8 index, Bid memory bestBid_) {
        TaskStore storage t = _tasks[taskId];
        if (t.bidCount == 0) return (false, 0, bestBid_);
        index = t.bestIndex;
        BidTree.Bid memory s = _bids[taskId][index];
        return (true, index, Bid({provider: s.provider, price: s.price}));
    }

    /// @inheritdoc ITaskMarket
    function councilOf(uint256 taskId) external view returns (address[] memory council) {
        TaskStore storage t = _tasks[taskId];
        uint256 seats = t.councilCount;
        council = new address[](seats);
        for (uint256 s; s < seats; ++s) {
            council[s] = _councils[taskId][s];
        }
    }

    /// @inheritdoc ITaskMarket
    function checkpointOf(uint256 taskId, uint256 k) external view returns (Checkpoint memory c) {
        TaskStore storage t = _tasks[taskId];
        if (t.status == Status.None) revert TaskMarketUnknownTask(taskId);
        uint8 checkpoints = t.checkpoints;
        if (k >= checkpoints) revert TaskMarketInvalidCheckpoint(taskId, k, checkpoints);
        uint256 roundId = _roundId(taskId, k, _redrawn(t, k));
        VerdictRound.Round memory r = _rounds.get(roundId);
        c.state = CheckpointState(uint8(r.state));
        c.resultRoot = _resultRoots[roundId];
        c.seedBlock = r.openedBlock;
        c.committedAt = _committedAt(taskId, k, _redrawn(t, k), r);
        c.commitEnd = r.commitEnd;
        c.revealEnd = r.revealEnd;
        c.commits = uint8(VerdictRound.popCount(r.committed));
        c.reveals = uint8(VerdictRound.popCount(r.revealed));
        c.approvals = uint8(VerdictRound.popCount(r.revealed & r.accepts));
        c.rejections = c.reveals - c.approvals;
        uint32 itemCount = t.itemCount;
        (uint256 first, uint256 end) = _segment(itemCount, checkpoints, k);
        c.firstItem = uint32(first);
        c.itemCount = uint32(end - first);
        if (t.assignedAt != 0) {
            uint256 price = t.bestPrice;
            c.share = _cumulativeShare(price, itemCount, checkpoints, k + 1)
                - _cumulativeShare(price, itemCount, checkpoints, k);
        }
    }

    /// @inheritdoc ITaskMarket
    function verdictOf(uint256 taskId, uint256 k, address voter) external view returns (Verdict memory v) {
        Participant memory p = _participants[taskId][voter];
        if (p.seat1 == 0) return v;
        v.member = true;
        v.seat = p.seat1 - 1;
        uint256 roundId = roundIdOf(taskId, k);
        VerdictRound.Round memory r = _rounds.get(roundId);
        uint256 bit = 1 << v.seat;
        v.committed = r.committed & bit != 0;
        v.revealed = r.revealed & bit != 0;
        v.accept = v.revealed && r.accepts & bit != 0;
        v.commitment = _rounds.commitmentAt(roundId, v.seat);
    }

    /// @inheritdoc ITaskMarket
    function roundIdOf(uint256 taskId, uint256 k) public view returns (uint256) {
        return _roundId(taskId, k, _redrawn(_tasks[taskId], k));
    }

    /// @inheritdoc ITaskMarket
    function verdictCommitment(uint256 taskId, uint256 k, bool accept, bytes32 salt, address voter)
        external
        view
        returns (bytes32)
    {
        return VerdictRound.commitmentOf(roundIdOf(taskId, k), accept, salt, voter);
    }

    /// @inheritdoc ITaskMarket
    function sampleSeed(uint256 taskId, uint256 k) public view returns (bytes32) {
        VerdictRound.Round memory r = _rounds.get(roundIdOf(taskId, k));
        if (r.state == VerdictRound.State.None || block.number <= r.openedBlock) return bytes32(0);
        return blockhash(r.openedBlock);
    }

    /// @inheritdoc ITaskMarket
    function memberSampleSeed(uint256 taskId, uint256 k, address member) external view returns (bytes32) {
        bytes32 seed = sampleSeed(taskId, k);
        if (seed == bytes32(0)) return seed;
        return keccak256(abi.encode(seed, member));
    }

    /// @inheritdoc ITaskMarket
    function lockedFor(uint256 taskId, address provider) external view returns (uint256) {
        Participant memory p = _participants[taskId][provider];
        if (p.seat1 != 0) return p.locked; // a seated council member (bidder or not)
        if (!_isBidder(_bids[taskId], p.index1, provider)) return 0; // never bid, or evicted
        TaskStore storage t = _tasks[taskId];
        Status status = t.status;
        if (status == Status.Open || status == Status.Expired) return p.locked;
        // Assigned or ended after assignment: of the bidders, only the executor stayed locked.
        if (p.index1 - 1 == t.bestIndex) return p.locked;
        return 0;
    }

    // ================================================================== internal: submit

    /// @dev Validates, stores and announces a task; returns its id and escrow (not yet pulled).
    function _submit(TaskParams memory p) private returns (uint256 taskId, uint256 escrow) {
        Config memory c = _config;
        _rules.checkParams(p, c);
        uint96 fee = SafeCast.toUint96(p.councilFeePerVote);
        escrow = SafeCast.toUint96(p.maxPrice + uint256(fee) * p.councilSize * p.checkpoints);
        uint96 collateral = SafeCast.toUint96(p.collateral);
        uint96 nonRevealSlash = uint96(uint256(collateral) * c.nonRevealSlashBps / BPS);
        uint40 biddingEnd = uint40(block.timestamp + p.biddingWindow);
        uint40 assignableAt = uint40(block.timestamp + c.minOpenTime); // <= biddingEnd (_setConfig)

        taskId = _nextTaskId++;
        TaskStore storage t = _tasks[taskId];
        t.status = Status.Open;
        t.maxBids = p.maxBids;
        t.biddingEnd = biddingEnd;
        t.assignableAt = assignableAt;
        t.bestPrice = type(uint96).max;
        t.councilSize = p.councilSize;
        t.checkpoints = p.checkpoints;
        t.client = msg.sender;
        t.maxPrice = uint96(p.maxPrice);
        t.collateral = collateral;
        t.escrow = uint96(escrow);
        t.itemCount = p.itemCount;
        t.slashRewardBps = c.slashRewardBps;
        t.councilFeePerVote = fee;
        t.nonRevealSlash = nonRevealSlash;
        t.checkpointWindow = p.checkpointWindow;
        t.commitWindow = p.commitWindow;
        t.revealWindow = p.revealWindow;
        t.softDeadline = p.softDeadline;
        t.hardDeadline = p.hardDeadline;
        t.specHash = p.specHash;
        t.dataRoot = p.dataRoot;
        t.modelHash = p.modelHash;
        t.specUri = p.specUri;
        emit TaskSubmitted(taskId, msg.sender, p, biddingEnd, assignableAt, escrow, nonRevealSlash, c.slashRewardBps);
    }

    function _setConfig(Config memory c) private {
        _rules.checkConfig(c);
        _config = c;
        emit ConfigUpdated(c);
    }

    // ================================================================== internal: assignment

    // ================================================================== internal: voting

    /// @dev The seat of `voter` on the open round of checkpoint k; reverts if there is none.
    function _voterSeat(uint256 taskId, uint256 k, address voter) private view returns (uint256) {
        TaskStore storage t = _tasks[taskId];
        _requireStatus(t, taskId, Status.Assigned);
        if (!t.voting || k != t.nextCheckpoint) revert TaskMarketNoOpenRound(taskId, k);
        uint8 seat1 = _participants[taskId][voter].seat1;
        if (seat1 == 0) revert TaskMarketNotCouncilMember(taskId, voter);
        return seat1 - 1;
    }

    /// @dev Opens checkpoint k's (current) round over the seated council, judging `resultRoot`.
    function _openRound(uint256 taskId, uint256 k, TaskStore storage t, bytes32 resultRoot) private {
        uint256 roundId = _roundId(taskId, k, _redrawn(t, k));
        _resultRoots[roundId] = resultRoot;
        VerdictRound.Round memory r = _rounds.open(roundId, t.councilCount, t.commitWindow, t.revealWindow);
        t.voting = true;
        emit CheckpointCommitted(taskId, k, resultRoot, r.openedBlock, r.commitEnd, r.revealEnd);
    }

    /// @dev Pays `feePerVoter` to each majority voter and slashes every seat that did not reveal.
    function _settleCouncil(
        uint256 taskId,
        uint256 k,
        TaskStore storage t,
        VerdictRound.Round memory r,
        bool accepted,
        uint256 feePerVoter
    ) private {
        uint256 seats = t.councilCount;
        uint96 slashAmount = t.nonRevealSlash;
        address client = t.client;
        address[16] storage council = _councils[taskId];
        for (uint256 s; s < seats; ++s) {
            address voter = council[s];
            uint256 bit = 1 << s;
            if (r.revealed & bit != 0) {
                if ((r.accepts & bit != 0) == accepted) _pay(voter, feePerVoter);
            } else if (slashAmount != 0) {
                _slashNonRevealer(taskId, k, voter, slashAmount, client);
            }
        }
    }

    /// @dev Slashes min(amount, its remaining collateral) from a seat that did not reveal, to the client.
    function _slashNonRevealer(uint256 taskId, uint256 k, address voter, uint96 amount, address client) private {
        Participant storage p = _participants[taskId][voter];
        uint96 locked = p.locked;
        if (amount > locked) amount = locked;
        if (amount == 0) return;
        p.locked = locked - amount;
        emit VoterSlashed(taskId, k, voter, amount);
        _registry.slash(voter, amount, client);
    }

    // ================================================================== internal: settlement

    /// @dev Pays the executor for accepted checkpoint k (committed at `committedAt`), minus the
    ///      late penalty, and moves to the next checkpoint.
    function _acceptCheckpoint(uint256 taskId, uint256 k, TaskStore storage t, uint40 committedAt)
        private
        returns (uint256 paid, uint256 penalty, uint40 nextDeadline)
    {
        uint256 price = t.bestPrice;
        uint32 itemCount = t.itemCount;
        uint8 checkpoints = t.checkpoints;
        uint256 share = _cumulativeShare(price, itemCount, checkpoints, k + 1)
            - _cumulativeShare(price, itemCount, checkpoints, k);
        paid = share;
        uint32 hardDeadline = t.hardDeadline;
        if (hardDeadline != 0) {
            uint256 softAt = uint256(t.assignedAt) + t.softDeadline;
            if (committedAt > softAt) {
                uint256 hardAt = uint256(t.assignedAt) + hardDeadline; // > committedAt: commits stop at hardAt
                paid = share * (hardAt - committedAt) / (hardAt - softAt);
            }
        }
        penalty = share - paid;
        t.escrow -= uint96(paid);
        t.nextCheckpoint = uint8(k + 1);
        if (k + 1 < checkpoints) {
            nextDeadline = _commitDeadline(t, block.timestamp);
            t.deadline = nextDeadline;
        }
        _pay(_executorOf(taskId, t), paid);
    }

    /// @dev Ends the task as Finalized: releases the executor and the council, refunds the escrow.
    function _finish(uint256 taskId, TaskStore storage t, bool confirmed, uint256 executorPaid) private {
        t.status = Status.Finalized;
        uint256 refund = _takeEscrow(t);
        emit TaskFinalized(taskId, confirmed, executorPaid, refund);
        _releaseExecutor(taskId, t);
        _releaseCouncil(taskId, t, false);
        _pay(t.client, refund);
    }

    /// @dev Ends the task as Failed at checkpoint k: when Rejected or Timeout, slashes the
    ///      executor's collateral (a share to the reject voters in `rejectMask` when rejected, the
    ///      rest to the client); when Undecided or NoCouncil, slashes nobody. Releases the executor
    ///      and the council, refunds the escrow.
    function _fail(
        uint256 taskId,
        uint256 k,
        TaskStore storage t,
        FailReason reason,
        uint256 rejectMask,
        uint256 rejections
    ) private {
        t.status = Status.Failed;
        t.voting = false;
        uint256 refund = _takeEscrow(t);
        // Reject voters share the slash (a rejection always has a majority of them).
        uint256 rewardBps = reason == FailReason.Rejected ? t.slashRewardBps : 0;
        uint256 slashed;
        uint256 rewardEach;
        uint256 toClient;
        // Only a majority's rejection or a missed deadline is the executor's fault. Twice undecided
        // (silence, a tie: one Sybil seat can make a tie) and an unseatable pool slash nobody.
        if (uint8(reason) <= uint8(FailReason.Timeout)) {
            (slashed, rewardEach, toClient) = _slashExecutor(taskId, t, rewardBps, rejections);
        }
        emit TaskFailed(taskId, k, reason, slashed, rewardEach, toClient, refund);
        if (rewardBps != 0) {
            // The slash came to the market: the reject voters' share out, the rest to the client.
            _paySeats(taskId, t, rejectMask, rewardEach);
            _pay(t.client, toClient);
        }
        _releaseExecutor(taskId, t); // a slashed executor has nothing left locked here
        _releaseCouncil(taskId, t, false);
        _pay(t.client, refund);
    }

    /// @dev Pays `amount` to each council seat whose bit is set in `mask`.
    function _paySeats(uint256 taskId, TaskStore storage t, uint256 mask, uint256 amount) private {
        uint256 seats = t.councilCount;
        for (uint256 s; s < seats; ++s) {
            if (mask & (1 << s) != 0) _pay(_councils[taskId][s], amount);
        }
    }

    /// @dev Slashes the executor's whole collateral: straight to the client when `rewardBps` is
    ///      0, else to the market, to be split (rewardEach per reject voter, toClient the rest).
    function _slashExecutor(
        uint256 taskId,
        TaskStore storage t,
        uint256 rewardBps,
        uint256 rejections
    ) private returns (uint256 slashed, uint256 rewardEach, uint256 toClient) {
        address executor = _executorOf(taskId, t);
        Participant storage p = _participants[taskId][executor];
        uint96 locked = p.locked;
        p.locked = 0;
        if (rewardBps == 0) {
            slashed = _registry.slash(executor, locked, t.client);
            return (slashed, 0, slashed);
        }
        slashed = _registry.slash(executor, locked, address(this));
        rewardEach = slashed * rewardBps / BPS / rejections;
        toClient = slashed - rewardEach * rejections;
    }

    function _releaseExecutor(uint256 taskId, TaskStore storage t) private {
        address executor = _executorOf(taskId, t);
        Participant storage p = _participants[taskId][executor];
        uint96 locked = p.locked;
        if (locked != 0) {
            p.locked = 0;
            _registry.unlock(executor, locked);
        }
    }

    /// @dev Unlocks what the seated council still has locked; `unseat` also takes their seats.
    function _releaseCouncil(uint256 taskId, TaskStore storage t, bool unseat) private {
        uint256 seats = t.councilCount;
        for (uint256 s; s < seats; ++s) {
            address member = _councils[taskId][s];
            Participant storage p = _participants[taskId][member];
            if (unseat) p.seat1 = 0;
            uint96 locked = p.locked;
            if (locked != 0) {
                p.locked = 0;
                _registry.unlock(member, locked);
            }
        }
    }

    // ================================================================== internal: helpers

    /// @dev Zeroes the task's escrow and returns what it held.
    function _takeEscrow(TaskStore storage t) private returns (uint256 amount) {
        amount = t.escrow;
        t.escrow = 0;
    }

    function _pay(address to, uint256 amount) private {
        if (amount != 0) _token.safeTransfer(to, amount);
    }

    /// @dev Whether the participant record with `index1` is a live bid of `provider`: an evicted
    ///      bidder's record still points at the index, which another provider's bid now holds.
    function _isBidder(BidTree.Bid[64] storage bids, uint8 index1, address provider) private view returns (bool) {
        return index1 != 0 && bids[index1 - 1].provider == provider;
    }

    function _executorOf(uint256 taskId, TaskStore storage t) private view returns (address) {
        return _bids[taskId][t.bestIndex].provider;
    }

    /// @dev Commit deadline of a checkpoint whose window starts at `start`: start + checkpointWindow,
    ///      capped at assignedAt + hardDeadline when a hard deadline is set.
    function _commitDeadline(TaskStore storage t, uint256 start) private view returns (uint40) {
        uint256 deadline = start + t.checkpointWindow;
        uint32 hardDeadline = t.hardDeadline;
        if (hardDeadline != 0) {
            uint256 hardAt = uint256(t.assignedAt) + hardDeadline;
            if (hardAt < deadline) deadline = hardAt;
        }
        return uint40(deadline);
    }

    function _requireStatus(TaskStore storage t, uint256 taskId, Status expected) private view {
        Status status = t.status;
        if (status != expected) _revertStatus(taskId, status, expected);
    }

    function _revertStatus(uint256 taskId, Status status, Status expected) private pure {
        if (status == Status.None) revert TaskMarketUnknownTask(taskId);
        revert TaskMarketUnexpectedStatus(taskId, status, expected);
    }

    /// @dev Checkpoint k's round: taskId << 8 | k, with REDRAW_BIT for the re-drawn council's round.
    function _roundId(uint256 taskId, uint256 k, bool redrawn) private pure returns (uint256) {
        return (taskId << 8) | (redrawn ? REDRAW_BIT : 0) | k;
    }

    /// @dev When the executor committed checkpoint k: its first round's opening, also for a
    ///      re-drawn council's round `r` (which opens when that council is seated, maybe past the
    ///      hard deadline): the re-draw's delay costs the executor no late penalty.
    function _committedAt(uint256 taskId, uint256 k, bool redrawn, VerdictRound.Round memory r)
        private
        view
        returns (uint40)
    {
        return redrawn ? _rounds.get(_roundId(taskId, k, false)).openedAt : r.openedAt;
    }

    function _redrawn(TaskStore storage t, uint256 k) private view returns (bool) {
        return (t.redrawn >> k) & 1 != 0;
    }

    /// @dev Items [first, end) of checkpoint k: itemCount split into `checkpoints` segments, the
    ///      first (itemCount % checkpoints) of them one item larger.
    function _segment(uint256 itemCount, uint256 checkpoints, uint256 k)
        private
        pure
        returns (uint256 first, uint256 end)
    {
        first = _itemsBefore(itemCount, checkpoints, k);
        end = _itemsBefore(itemCount, checkpoints, k + 1);
    }

    function _itemsBefore(uint256 itemCount, uint256 checkpoints, uint256 k) private pure returns (uint256) {
        uint256 rem = itemCount % checkpoints;
        return k * (itemCount / checkpoints) + (k < rem ? k : rem);
    }

    /// @dev Nominal price of checkpoints 0..k-1: floor(price * itemsBefore(k) / itemCount). The
    ///      share of checkpoint k is the difference of two of these, so the shares sum to price.
    function _cumulativeShare(uint256 price, uint256 itemCount, uint256 checkpoints, uint256 k)
        private
        pure
        returns (uint256)
    {
        return price * _itemsBefore(itemCount, checkpoints, k) / itemCount;
    }
}
