// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {IStreamMarket} from "./interfaces/IStreamMarket.sol";
import {VerdictRound} from "./libraries/VerdictRound.sol";
import {StreamMarketRules, STREAM_MAX_URI_LENGTH} from "./StreamMarketRules.sol";

/// @title StreamMarket
/// @notice The streaming market: streams with a deposit, open subscription with collateral,
///         cumulative EIP-712 vouchers redeemed on chain, a close notice, and disputes judged by
///         the other subscribers with a commit-reveal verdict round. See {IStreamMarket} for the
///         rules and contracts/README.md for the design.
/// @dev Storage is laid out for the redeem path: it reads the stream's slot 0 (client, deposit)
///      and slot 1 (status), the provider's redeemed total, and writes slot 0 and the total.
///      Every loop is bounded by MAX_SUBSCRIBERS (32), the council size (<= 16) or
///      MAX_REDEEM_BATCH (32). Amounts are stored as uint96 (as in the registry), prices as uint128.
contract StreamMarket is IStreamMarket, AccessControl, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using VerdictRound for VerdictRound.Rounds;

    // Limits and type hashes (see IStreamMarket's notes; internal: no getters, to keep the runtime
    // code under EIP-170).
    uint8 internal constant MAX_SUBSCRIBERS = 32;
    /// @inheritdoc IStreamMarket
    uint256 public constant MAX_REDEEM_BATCH = 32;
    uint256 internal constant MAX_URI_LENGTH = STREAM_MAX_URI_LENGTH;
    bytes32 internal constant VOUCHER_TYPEHASH =
        keccak256("Voucher(uint256 streamId,address provider,uint256 cumulativeAmount)");
    bytes32 internal constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(uint256 streamId,bytes32 requestId,bytes32 responseHash,uint32 promptTokens,uint32 completionTokens)"
    );

    uint256 private constant BPS = 10_000;
    /// @dev A dispute that no majority of its council judges invalid leaves the response valid
    ///      (the disputer carries the burden of proof; ties and silence included).
    bool private constant ACCEPT_WITHOUT_MAJORITY = true;

    /// @dev A stream in storage. Slot boundaries are marked; see the contract's @dev.
    struct StreamStore {
        // slot 0: read and written by every redeem
        address client;
        uint96 deposit;
        // slot 1: status read by every redeem
        StreamStatus status;
        uint8 councilSize;
        ResponseMethod responseMethod;
        uint16 weightBps;
        uint16 voterRewardBps;
        uint8 subscriberCount;
        uint8 openDisputes;
        uint40 createdAt;
        uint40 closeAt;
        uint32 maxDowntime;
        uint32 unsubscribeNotice;
        uint32 closeNotice;
        // slot 2
        uint96 collateral;
        uint96 nonRevealSlash;
        uint32 commitWindow;
        uint32 revealWindow;
        // slot 3
        uint128 priceGenerated;
        uint128 priceVerified;
        // slot 4
        uint96 disputeBond;
        // slots 5..7
        bytes32 modelHash;
        bytes32 specHash;
        string specUri;
    }

    /// @dev A provider's subscription in storage: one slot.
    struct SubStore {
        SubscriptionStatus status;
        uint40 subscribedAt;
        uint40 noticeEnd;
        uint96 locked; // collateral this market holds locked for it on the stream
        uint64 openDispute; // open dispute accusing it; 0 = none
    }

    /// @dev A provider's allowance on a stream: the part of the deposit reserved for it (one slot).
    struct AllowanceStore {
        uint96 left; // reserved and not yet redeemed
        uint96 pendingDecrease; // the client's announced decrease (<= left when requested)
        uint40 decreaseAt; // when the decrease may be applied (0 = none pending)
    }

    /// @dev A dispute in storage (its phases and votes live in the verdict round `disputeId`).
    struct DisputeStore {
        // slot 0
        address provider; // != 0 for every dispute
        uint64 streamId;
        uint8 seats; // 0 until seated
        bool dropped; // ended without a council
        // slot 1
        uint96 bond;
        uint32 promptTokens;
        uint32 completionTokens;
        uint64 drawBlock; // its hash seeds the draw; the pool as of drawBlock - 1
        // slots 2, 3
        bytes32 requestId;
        bytes32 responseHash;
        // slot 4
        address disputer; // who opened it and paid the bond
    }

    IERC20 private immutable _token;
    IProviderRegistry private immutable _registry;
    StreamMarketRules private immutable _rules;

    Config private _config;
    uint256 private _nextStreamId = 1;
    uint256 private _nextDisputeId = 1;

    mapping(uint256 streamId => StreamStore) private _streams;
    mapping(uint256 streamId => address[32]) private _subscribers; // subscription order, first subscriberCount
    mapping(uint256 streamId => mapping(address provider => SubStore)) private _subs;
    mapping(uint256 streamId => mapping(address provider => uint256)) private _redeemed;
    mapping(uint256 streamId => mapping(address provider => AllowanceStore)) private _allowances;
    mapping(uint256 disputeId => DisputeStore) private _disputes;
    mapping(uint256 disputeId => address[16]) private _councils;
    mapping(bytes32 receiptDigest => uint256 disputeId) private _receiptDisputes;
    VerdictRound.Rounds private _rounds;

    /// @param token_ The payment token: must be the registry's staking token (oGPU), with ERC-2612
    ///        for the permit variants.
    /// @param registry_ The provider registry; the admin must grant this market MARKET_ROLE there.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (setConfig).
    /// @param config_ The initial protocol bounds.
    constructor(IERC20 token_, IProviderRegistry registry_, address admin, Config memory config_)
        EIP712("ogpu", "1")
    {
        if (address(registry_) == address(0)) revert StreamMarketInvalidRegistry(address(registry_));
        address registryToken = address(registry_.token());
        if (address(token_) != registryToken) revert StreamMarketTokenMismatch(address(token_), registryToken);
        if (admin == address(0)) revert StreamMarketInvalidAdmin(admin);
        _token = token_;
        _registry = registry_;
        _rules = new StreamMarketRules();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setConfig(config_);
    }

    // ================================================================== client

    /// @inheritdoc IStreamMarket
    function create(StreamParams calldata params) external nonReentrant returns (uint256 streamId) {
        uint256 deposit;
        (streamId, deposit) = _create(params);
        if (deposit != 0) _token.safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @inheritdoc IStreamMarket
    function createWithPermit(StreamParams calldata params, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
        returns (uint256 streamId)
    {
        uint256 deposit;
        (streamId, deposit) = _create(params);
        if (deposit != 0) _pullWithPermit(deposit, deadline, v, r, s);
    }

    /// @inheritdoc IStreamMarket
    function updateTerms(uint256 streamId, uint256 pricePerKTokenGenerated, uint256 pricePerKTokenVerified)
        external
    {
        StreamStore storage s = _clientStream(streamId, StreamStatus.Active);
        s.priceGenerated = SafeCast.toUint128(pricePerKTokenGenerated);
        s.priceVerified = SafeCast.toUint128(pricePerKTokenVerified);
        emit TermsUpdated(streamId, pricePerKTokenGenerated, pricePerKTokenVerified);
    }

    /// @inheritdoc IStreamMarket
    function topUp(uint256 streamId, uint256 amount) external nonReentrant {
        _topUp(streamId, amount);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IStreamMarket
    function topUpWithPermit(uint256 streamId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        _topUp(streamId, amount);
        _pullWithPermit(amount, deadline, v, r, s);
    }

    /// @inheritdoc IStreamMarket
    function close(uint256 streamId) external {
        StreamStore storage s = _clientStream(streamId, StreamStatus.Active);
        uint40 closeAt = uint40(block.timestamp + s.closeNotice);
        s.status = StreamStatus.Closing;
        s.closeAt = closeAt;
        emit StreamCloseRequested(streamId, closeAt);
    }

    /// @inheritdoc IStreamMarket
    function increaseAllowance(uint256 streamId, address provider, uint256 amount) external {
        if (amount == 0) revert StreamMarketZeroAmount();
        StreamStore storage s = _openClientStream(streamId);
        _requireSubscribed(streamId, provider);
        uint256 deposit = s.deposit;
        if (amount > deposit) revert StreamMarketAllowanceExceedsDeposit(streamId, amount, deposit);
        AllowanceStore storage a = _allowances[streamId][provider];
        uint256 left = a.left + amount; // <= the stream's total, < 2^96
        deposit -= amount;
        a.left = uint96(left);
        s.deposit = uint96(deposit);
        emit AllowanceIncreased(streamId, provider, amount, left, deposit);
    }

    /// @inheritdoc IStreamMarket
    function requestAllowanceDecrease(uint256 streamId, address provider, uint256 amount) external {
        if (amount == 0) revert StreamMarketZeroAmount();
        StreamStore storage s = _openClientStream(streamId);
        AllowanceStore storage a = _allowances[streamId][provider];
        uint256 decreasable = _unannounced(a.left, a.pendingDecrease);
        if (amount > decreasable) {
            revert StreamMarketDecreaseExceedsAllowance(streamId, provider, amount, decreasable);
        }
        uint256 pending = a.pendingDecrease + amount;
        uint40 decreaseAt = uint40(block.timestamp + s.closeNotice);
        a.pendingDecrease = uint96(pending);
        a.decreaseAt = decreaseAt;
        emit AllowanceDecreaseRequested(streamId, provider, amount, pending, decreaseAt);
    }

    /// @inheritdoc IStreamMarket
    function finishAllowanceDecrease(uint256 streamId, address provider) external {
        StreamStore storage s = _streams[streamId];
        _requireNotClosed(s, streamId);
        AllowanceStore memory a = _allowances[streamId][provider];
        if (a.decreaseAt == 0) revert StreamMarketNoAllowanceDecrease(streamId, provider);
        if (block.timestamp < a.decreaseAt) {
            revert StreamMarketAllowanceNoticeNotOver(streamId, provider, a.decreaseAt);
        }
        // Redeems during the notice may have eaten into the announced part (a provider that served
        // against an older view): the decrease takes what is left of it.
        uint256 amount = a.pendingDecrease < a.left ? a.pendingDecrease : a.left;
        uint256 left = a.left - amount;
        uint256 deposit = s.deposit + amount;
        _allowances[streamId][provider] = AllowanceStore({left: uint96(left), pendingDecrease: 0, decreaseAt: 0});
        s.deposit = uint96(deposit);
        emit AllowanceDecreased(streamId, provider, amount, left, deposit);
    }

    /// @inheritdoc IStreamMarket
    function openDispute(
        address provider,
        Receipt calldata receipt,
        bytes calldata signature,
        string calldata evidenceUri
    ) external nonReentrant returns (uint256 disputeId) {
        uint256 streamId = receipt.streamId;
        StreamStore storage s = _streams[streamId];
        bytes32 digest = _checkDispute(s, provider, receipt, signature, bytes(evidenceUri).length);
        disputeId = _nextDisputeId++;
        _receiptDisputes[digest] = disputeId;
        _subs[streamId][provider].openDispute = uint64(disputeId);
        s.openDisputes += 1;
        uint96 bond = s.disputeBond;
        _storeDispute(disputeId, provider, receipt, bond);
        emit DisputeOpened(disputeId, streamId, provider, msg.sender, receipt, evidenceUri, bond, uint64(block.number));
        if (bond != 0) _token.safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @inheritdoc IStreamMarket
    function seatDispute(uint256 disputeId) external nonReentrant {
        DisputeStore storage d = _disputes[disputeId];
        DisputeState state = _stateOf(disputeId);
        if (state != DisputeState.Seating) revert StreamMarketNotSeating(disputeId, state); // None: unknown
        uint64 drawBlock = d.drawBlock;
        if (block.number <= drawBlock) revert StreamMarketSeatingTooEarly(disputeId, drawBlock);
        bytes32 hash = blockhash(drawBlock);
        if (hash == bytes32(0)) {
            // Over 256 blocks ago: the seed is gone. Draw from a later block instead.
            d.drawBlock = uint64(block.number);
            emit DisputeDrawReanchored(disputeId, drawBlock, uint64(block.number));
            return;
        }
        uint256 streamId = d.streamId;
        StreamStore storage s = _streams[streamId];
        address[] memory exclude = new address[](3);
        exclude[0] = d.provider;
        exclude[1] = d.disputer;
        exclude[2] = s.client;
        uint256 seats = s.councilSize;
        uint96 collateral = s.collateral;
        address[] memory members = _registry.drawAndLockCouncil(
            s.modelHash, drawBlock - 1, keccak256(abi.encode(hash, disputeId)), seats, exclude, collateral
        );
        if (members.length < seats) {
            // Nobody is at fault: nobody is slashed, the bond goes back.
            d.dropped = true;
            s.openDisputes -= 1;
            _subs[streamId][exclude[0]].openDispute = 0;
            uint96 bond = d.bond;
            emit DisputeDropped(disputeId, streamId, exclude[0], exclude[1], bond);
            _pay(exclude[1], bond);
            return;
        }
        address[16] storage stored = _councils[disputeId];
        for (uint256 i; i < seats; ++i) {
            stored[i] = members[i];
        }
        d.seats = uint8(seats);
        VerdictRound.Round memory r = _rounds.open(disputeId, seats, s.commitWindow, s.revealWindow);
        // Every seat is backed by the stream's collateral, locked for the dispute by the draw.
        emit DisputeCouncilSeated(disputeId, members, drawBlock, r.commitEnd, r.revealEnd);
    }

    // ================================================================== providers

    /// @inheritdoc IStreamMarket
    function subscribe(uint256 streamId) external nonReentrant {
        StreamStore storage s = _streams[streamId];
        StreamStatus status = s.status;
        if (status != StreamStatus.Active) _revertStatus(streamId, status, StreamStatus.Active);
        if (msg.sender == s.client) revert StreamMarketClientCannotSubscribe(streamId, msg.sender);
        SubStore storage sub = _subs[streamId][msg.sender];
        SubscriptionStatus subStatus = sub.status;
        if (subStatus == SubscriptionStatus.Removed) revert StreamMarketProviderRemoved(streamId, msg.sender);
        if (subStatus != SubscriptionStatus.None) revert StreamMarketAlreadySubscribed(streamId, msg.sender);
        uint8 n = s.subscriberCount;
        if (n >= MAX_SUBSCRIBERS) revert StreamMarketSubscriberCapReached(streamId, MAX_SUBSCRIBERS);
        if (!_registry.isRegistered(msg.sender)) revert StreamMarketProviderNotRegistered(msg.sender);

        uint96 collateral = s.collateral;
        sub.status = SubscriptionStatus.Active;
        sub.subscribedAt = uint40(block.timestamp);
        sub.locked = collateral;
        _subscribers[streamId][n] = msg.sender;
        s.subscriberCount = n + 1;
        emit Subscribed(streamId, msg.sender, collateral, n + 1);
        _registry.lock(msg.sender, collateral);
    }

    /// @inheritdoc IStreamMarket
    function requestUnsubscribe(uint256 streamId) external {
        SubStore storage sub = _subs[streamId][msg.sender];
        SubscriptionStatus status = sub.status;
        if (status != SubscriptionStatus.Active) revert StreamMarketNotSubscribed(streamId, msg.sender, status);
        uint40 noticeEnd = uint40(block.timestamp + _streams[streamId].unsubscribeNotice);
        sub.status = SubscriptionStatus.Unsubscribing;
        sub.noticeEnd = noticeEnd;
        emit UnsubscribeRequested(streamId, msg.sender, noticeEnd);
    }

    /// @inheritdoc IStreamMarket
    function finishUnsubscribe(uint256 streamId) external nonReentrant {
        SubStore memory sub = _subs[streamId][msg.sender];
        if (sub.status != SubscriptionStatus.Unsubscribing) {
            revert StreamMarketNotSubscribed(streamId, msg.sender, sub.status);
        }
        if (block.timestamp < sub.noticeEnd) {
            revert StreamMarketUnsubscribeNoticeNotOver(streamId, msg.sender, sub.noticeEnd);
        }
        if (sub.openDispute != 0) revert StreamMarketSubscriptionBusy(streamId, msg.sender, sub.openDispute);
        delete _subs[streamId][msg.sender];
        StreamStore storage s = _streams[streamId];
        uint8 count = _removeSubscriber(streamId, s, msg.sender);
        _releaseAllowance(streamId, s, msg.sender);
        emit Unsubscribed(streamId, msg.sender, sub.locked, count);
        if (sub.locked != 0) _registry.unlock(msg.sender, sub.locked);
    }

    /// @inheritdoc IStreamMarket
    function redeem(uint256 streamId, uint256 cumulativeAmount, bytes calldata signature)
        external
        nonReentrant
        returns (uint256 paid)
    {
        paid = _redeem(streamId, cumulativeAmount, signature);
        _token.safeTransfer(msg.sender, paid);
    }

    /// @inheritdoc IStreamMarket
    function redeemMany(Redemption[] calldata redemptions) external nonReentrant returns (uint256 paid) {
        uint256 n = redemptions.length;
        if (n == 0 || n > MAX_REDEEM_BATCH) revert StreamMarketInvalidBatch(n, MAX_REDEEM_BATCH);
        for (uint256 i; i < n; ++i) {
            Redemption calldata x = redemptions[i];
            paid += _redeem(x.streamId, x.cumulativeAmount, x.signature);
        }
        _token.safeTransfer(msg.sender, paid);
    }

    /// @inheritdoc IStreamMarket
    function commitVerdict(uint256 disputeId, bytes32 commitment) external {
        uint256 seat = _seatOf(disputeId, msg.sender);
        _rounds.commit(disputeId, seat, msg.sender, commitment);
        emit VerdictCommitted(disputeId, msg.sender, commitment);
    }

    /// @inheritdoc IStreamMarket
    function revealVerdict(uint256 disputeId, bool accept, bytes32 salt) external {
        uint256 seat = _seatOf(disputeId, msg.sender);
        _rounds.reveal(disputeId, seat, msg.sender, accept, salt);
        emit VerdictRevealed(disputeId, msg.sender, accept);
    }

    // ================================================================== anyone

    /// @inheritdoc IStreamMarket
    function finalizeDispute(uint256 disputeId) external nonReentrant {
        _requireOpenDispute(disputeId);
        DisputeStore memory d = _disputes[disputeId];
        // The disputer carries the burden of proof: without a majority of the seats for invalid, valid.
        (VerdictRound.Round memory r, uint256 approvals, uint256 rejections) =
            _rounds.close(disputeId, ACCEPT_WITHOUT_MAJORITY);
        bool valid = r.state == VerdictRound.State.Accepted;
        StreamStore storage s = _streams[d.streamId];
        s.openDisputes -= 1;

        uint256 slashed;
        if (valid) _subs[d.streamId][d.provider].openDispute = 0;
        else slashed = _removeAccused(d.streamId, s, d.provider);
        StreamMarketRules.Outcome memory o = _rules.disputeOutcome(
            valid, d.bond, slashed, s.voterRewardBps, valid ? approvals : rejections, d.disputer == s.client
        );
        uint256 majority = valid ? r.revealed & r.accepts : r.revealed & ~r.accepts;
        _settleCouncil(disputeId, d, majority, ~uint256(r.revealed), o.rewardEach);
        emit DisputeResolved(
            disputeId,
            d.streamId,
            d.provider,
            valid,
            uint8(approvals),
            uint8(rejections),
            o.slashed,
            o.rewardEach,
            o.toClient,
            o.toProvider
        );
        if (o.toDisputer != 0) emit DisputerRewarded(disputeId, d.disputer, d.bond, o.toDisputer - d.bond);
        _pay(s.client, o.toClient);
        _pay(d.provider, o.toProvider);
        _pay(d.disputer, o.toDisputer);
    }

    /// @inheritdoc IStreamMarket
    function finalizeClose(uint256 streamId) external nonReentrant {
        StreamStore storage s = _streams[streamId];
        StreamStatus status = s.status;
        if (status != StreamStatus.Closing) _revertStatus(streamId, status, StreamStatus.Closing);
        uint40 closeAt = s.closeAt;
        if (block.timestamp < closeAt) revert StreamMarketCloseNoticeNotOver(streamId, closeAt);
        uint8 openDisputes = s.openDisputes;
        if (openDisputes != 0) revert StreamMarketDisputesOpen(streamId, openDisputes);

        s.status = StreamStatus.Closed;
        uint256 n = s.subscriberCount;
        s.subscriberCount = 0;
        address[32] storage list = _subscribers[streamId];
        mapping(address => SubStore) storage subs = _subs[streamId];
        for (uint256 i; i < n; ++i) {
            _releaseAllowance(streamId, s, list[i]); // back into the deposit, refunded below
        }
        uint256 refund = s.deposit;
        s.deposit = 0;
        emit StreamClosed(streamId, refund);
        for (uint256 i; i < n; ++i) {
            address p = list[i];
            uint96 locked = subs[p].locked;
            delete subs[p]; // no open dispute: openDispute is 0
            delete list[i];
            if (locked != 0) _registry.unlock(p, locked);
        }
        _pay(s.client, refund);
    }

    // ================================================================== admin

    /// @inheritdoc IStreamMarket
    function setConfig(Config calldata config_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setConfig(config_);
    }

    // ================================================================== views

    /// @inheritdoc IStreamMarket
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IStreamMarket
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @inheritdoc IStreamMarket
    function registry() external view returns (IProviderRegistry) {
        return _registry;
    }

    /// @inheritdoc IStreamMarket
    function nextStreamId() external view returns (uint256) {
        return _nextStreamId;
    }

    /// @inheritdoc IStreamMarket
    function nextDisputeId() external view returns (uint256) {
        return _nextDisputeId;
    }

    /// @inheritdoc IStreamMarket
    function getStream(uint256 streamId) external view returns (Stream memory stream) {
        StreamStore storage s = _streams[streamId];
        stream.client = s.client;
        stream.status = s.status;
        stream.modelHash = s.modelHash;
        stream.specHash = s.specHash;
        stream.specUri = s.specUri;
        stream.pricePerKTokenGenerated = s.priceGenerated;
        stream.pricePerKTokenVerified = s.priceVerified;
        stream.councilSize = s.councilSize;
        stream.responseMethod = s.responseMethod;
        stream.weightBps = s.weightBps;
        stream.collateral = s.collateral;
        stream.maxDowntime = s.maxDowntime;
        stream.unsubscribeNotice = s.unsubscribeNotice;
        stream.closeNotice = s.closeNotice;
        stream.commitWindow = s.commitWindow;
        stream.revealWindow = s.revealWindow;
        stream.disputeBond = s.disputeBond;
        stream.nonRevealSlash = s.nonRevealSlash;
        stream.voterRewardBps = s.voterRewardBps;
        stream.deposit = s.deposit;
        stream.createdAt = s.createdAt;
        stream.closeAt = s.closeAt;
        stream.subscriberCount = s.subscriberCount;
        stream.openDisputes = s.openDisputes;
    }

    /// @inheritdoc IStreamMarket
    function surelyRedeemable(uint256 streamId, address provider) external view returns (uint256) {
        StreamStatus status = _streams[streamId].status;
        if (status != StreamStatus.Active && status != StreamStatus.Closing) return 0;
        AllowanceStore memory a = _allowances[streamId][provider];
        return _unannounced(a.left, a.pendingDecrease);
    }

    /// @dev What of an allowance no decrease is announced for: left - pending, or 0.
    function _unannounced(uint256 left, uint256 pending) private pure returns (uint256) {
        return left > pending ? left - pending : 0;
    }

    /// @inheritdoc IStreamMarket
    function subscribersOf(uint256 streamId) external view returns (address[] memory list) {
        uint256 n = _streams[streamId].subscriberCount;
        list = new address[](n);
        address[32] storage stored = _subscribers[streamId];
        for (uint256 i; i < n; ++i) {
            list[i] = stored[i];
        }
    }

    /// @inheritdoc IStreamMarket
    function subscription(uint256 streamId, address provider) external view returns (Subscription memory) {
        SubStore memory sub = _subs[streamId][provider];
        AllowanceStore memory a = _allowances[streamId][provider];
        return Subscription({
            status: sub.status,
            locked: sub.locked,
            subscribedAt: sub.subscribedAt,
            noticeEnd: sub.noticeEnd,
            openDispute: sub.openDispute,
            allowance: a.left,
            pendingDecrease: a.pendingDecrease,
            decreaseAt: a.decreaseAt
        });
    }

    /// @inheritdoc IStreamMarket
    function redeemed(uint256 streamId, address provider) external view returns (uint256) {
        return _redeemed[streamId][provider];
    }

    /// @inheritdoc IStreamMarket
    function getDispute(uint256 disputeId) external view returns (Dispute memory dispute) {
        DisputeStore memory d = _disputes[disputeId];
        if (d.provider == address(0)) return dispute;
        VerdictRound.Round memory r = _rounds.get(disputeId);
        dispute.streamId = d.streamId;
        dispute.provider = d.provider;
        dispute.disputer = d.disputer;
        dispute.state = _stateOf(disputeId);
        dispute.drawBlock = d.drawBlock;
        dispute.receipt = Receipt({
            streamId: d.streamId,
            requestId: d.requestId,
            responseHash: d.responseHash,
            promptTokens: d.promptTokens,
            completionTokens: d.completionTokens
        });
        dispute.bond = d.bond;
        dispute.council = new address[](d.seats);
        address[16] storage seats = _councils[disputeId];
        for (uint256 i; i < d.seats; ++i) {
            dispute.council[i] = seats[i];
        }
        dispute.openedAt = r.openedAt;
        dispute.commitEnd = r.commitEnd;
        dispute.revealEnd = r.revealEnd;
        dispute.commits = uint8(VerdictRound.popCount(r.committed));
        dispute.reveals = uint8(VerdictRound.popCount(r.revealed));
        dispute.approvals = uint8(VerdictRound.popCount(r.revealed & r.accepts));
        dispute.rejections = dispute.reveals - dispute.approvals;
    }

    /// @inheritdoc IStreamMarket
    function verdictOf(uint256 disputeId, address voter) external view returns (Verdict memory v) {
        (bool found, uint256 seat) = _findSeat(disputeId, _disputes[disputeId].seats, voter);
        if (!found) return v;
        v.member = true;
        v.seat = uint8(seat);
        VerdictRound.Round memory r = _rounds.get(disputeId);
        uint256 bit = 1 << seat;
        v.committed = r.committed & bit != 0;
        v.revealed = r.revealed & bit != 0;
        v.accept = v.revealed && r.accepts & bit != 0;
        v.commitment = _rounds.commitmentAt(disputeId, seat);
    }



    // ================================================================== internal: create

    /// @dev Validates, stores and announces a stream; returns its id and deposit (not yet pulled).
    function _create(StreamParams calldata p) private returns (uint256 streamId, uint256 deposit) {
        Config memory c = _config;
        _rules.checkParams(p, c);
        uint96 collateral = SafeCast.toUint96(p.collateral);
        uint96 nonRevealSlash = uint96(uint256(collateral) * c.nonRevealSlashBps / BPS);
        deposit = SafeCast.toUint96(p.deposit);

        streamId = _nextStreamId++;
        StreamStore storage s = _streams[streamId];
        s.client = msg.sender;
        s.deposit = uint96(deposit);
        s.status = StreamStatus.Active;
        s.councilSize = p.councilSize;
        s.responseMethod = p.responseMethod;
        s.weightBps = p.weightBps;
        s.voterRewardBps = c.voterRewardBps;
        s.createdAt = uint40(block.timestamp);
        s.maxDowntime = p.maxDowntime;
        s.unsubscribeNotice = p.unsubscribeNotice;
        s.closeNotice = p.closeNotice;
        s.collateral = collateral;
        s.nonRevealSlash = nonRevealSlash;
        s.commitWindow = p.commitWindow;
        s.revealWindow = p.revealWindow;
        s.priceGenerated = SafeCast.toUint128(p.pricePerKTokenGenerated);
        s.priceVerified = SafeCast.toUint128(p.pricePerKTokenVerified);
        s.disputeBond = SafeCast.toUint96(p.disputeBond);
        s.modelHash = p.modelHash;
        s.specHash = p.specHash;
        s.specUri = p.specUri;
        emit StreamCreated(streamId, msg.sender, p, nonRevealSlash, c.voterRewardBps);
    }

    function _setConfig(Config memory c) private {
        _rules.checkConfig(c);
        _config = c;
        emit ConfigUpdated(c);
    }

    // ================================================================== internal: money

    function _topUp(uint256 streamId, uint256 amount) private {
        if (amount == 0) revert StreamMarketZeroAmount();
        StreamStore storage s = _streams[streamId];
        _requireNotClosed(s, streamId);
        uint256 deposit = s.deposit + amount;
        s.deposit = SafeCast.toUint96(deposit);
        emit DepositToppedUp(streamId, msg.sender, amount, deposit);
    }

    /// @dev Pulls `amount` from the caller after an ERC-2612 permit; a permit that fails (for
    ///      instance because someone front-ran it) is ignored: the allowance it set is what we need.
    function _pullWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) private {
        try IERC20Permit(address(_token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev Checks a voucher for the caller and books its payment; returns what it pays (not yet
    ///      transferred).
    function _redeem(uint256 streamId, uint256 cumulativeAmount, bytes calldata signature)
        private
        returns (uint256 paid)
    {
        StreamStore storage s = _streams[streamId];
        _requireNotClosed(s, streamId);
        uint256 done = _redeemed[streamId][msg.sender];
        if (cumulativeAmount <= done) {
            revert StreamMarketCumulativeNotIncreasing(streamId, msg.sender, cumulativeAmount, done);
        }
        address client = s.client;
        uint256 deposit = s.deposit;
        bytes32 digest = _voucherDigest(streamId, msg.sender, cumulativeAmount);
        if (!SignatureChecker.isValidSignatureNowCalldata(client, digest, signature)) {
            revert StreamMarketInvalidVoucherSignature(streamId, msg.sender, cumulativeAmount);
        }
        uint256 owed = cumulativeAmount - done;
        AllowanceStore storage a = _allowances[streamId][msg.sender];
        uint256 left = a.left;
        if (left == 0 && deposit == 0) revert StreamMarketDepositEmpty(streamId, owed);
        // The provider's allowance first (nobody else can touch it), then the unreserved deposit.
        uint256 fromAllowance = owed < left ? owed : left;
        uint256 fromDeposit = owed - fromAllowance;
        if (fromDeposit > deposit) fromDeposit = deposit;
        paid = fromAllowance + fromDeposit;
        if (fromAllowance != 0) {
            left -= fromAllowance;
            a.left = uint96(left);
        }
        if (fromDeposit != 0) {
            deposit -= fromDeposit;
            s.deposit = uint96(deposit);
        }
        done += paid;
        _redeemed[streamId][msg.sender] = done;
        emit VoucherRedeemed(streamId, msg.sender, cumulativeAmount, paid, done, left, deposit);
    }

    function _pay(address to, uint256 amount) private {
        if (amount != 0) _token.safeTransfer(to, amount);
    }

    // ================================================================== internal: disputes

    /// @dev Checks that the caller may open a dispute on `receipt` against `provider` now; returns
    ///      the receipt's digest.
    function _checkDispute(
        StreamStore storage s,
        address provider,
        Receipt calldata receipt,
        bytes calldata signature,
        uint256 uriLength
    ) private view returns (bytes32 digest) {
        uint256 streamId = receipt.streamId;
        _requireNotClosed(s, streamId);
        if (msg.sender == provider) revert StreamMarketSelfDispute(streamId, provider);
        if (s.status == StreamStatus.Closing && block.timestamp >= s.closeAt) {
            revert StreamMarketCloseNoticeOver(streamId, s.closeAt);
        }
        if (uriLength == 0 || uriLength > MAX_URI_LENGTH) {
            revert StreamMarketInvalidEvidenceUri(uriLength, MAX_URI_LENGTH);
        }
        SubStore memory accused = _subs[streamId][provider];
        if (accused.status != SubscriptionStatus.Active && accused.status != SubscriptionStatus.Unsubscribing) {
            revert StreamMarketNotSubscribed(streamId, provider, accused.status);
        }
        if (accused.openDispute != 0) {
            revert StreamMarketProviderUnderDispute(streamId, provider, accused.openDispute);
        }
        digest = _receiptDigest(receipt);
        if (!SignatureChecker.isValidSignatureNowCalldata(provider, digest, signature)) {
            revert StreamMarketInvalidReceiptSignature(streamId, provider, receipt.requestId);
        }
        uint256 previous = _receiptDisputes[digest];
        if (previous != 0) revert StreamMarketReceiptAlreadyDisputed(digest, previous);
    }

    function _storeDispute(uint256 disputeId, address provider, Receipt calldata receipt, uint96 bond) private {
        _disputes[disputeId] = DisputeStore({
            provider: provider,
            streamId: uint64(receipt.streamId),
            seats: 0,
            dropped: false,
            bond: bond,
            promptTokens: receipt.promptTokens,
            completionTokens: receipt.completionTokens,
            drawBlock: uint64(block.number),
            requestId: receipt.requestId,
            responseHash: receipt.responseHash,
            disputer: msg.sender
        });
    }

    /// @dev Frees every seat of the dispute (unlocks the collateral locked at seating), pays `rewardEach`
    ///      to each seat in `majority` (the revealed verdicts equal to the outcome) and slashes each seat
    ///      in `silent` (no reveal) the stream's nonRevealSlash (<= the collateral) to the client.
    function _settleCouncil(uint256 disputeId, DisputeStore memory d, uint256 majority, uint256 silent, uint256 rewardEach)
        private
    {
        address[16] storage council = _councils[disputeId];
        StreamStore storage s = _streams[d.streamId];
        uint96 slashAmount = s.nonRevealSlash;
        uint96 collateral = s.collateral;
        for (uint256 i; i < d.seats; ++i) {
            address voter = council[i];
            uint256 bit = 1 << i;
            uint96 slashed = silent & bit != 0 ? slashAmount : 0;
            if (slashed != 0) {
                emit VoterSlashed(disputeId, voter, slashed);
                _registry.slash(voter, slashed, s.client);
            }
            if (collateral > slashed) _registry.unlock(voter, collateral - slashed);
            if (majority & bit != 0) _pay(voter, rewardEach);
        }
    }

    /// @dev Removes the accused of an invalid response from the stream for good and slashes its
    ///      whole collateral on it to the market; returns the amount slashed.
    function _removeAccused(uint256 streamId, StreamStore storage s, address provider)
        private
        returns (uint256 slashed)
    {
        SubStore storage sub = _subs[streamId][provider];
        uint96 locked = sub.locked;
        sub.status = SubscriptionStatus.Removed;
        sub.locked = 0;
        sub.noticeEnd = 0;
        sub.openDispute = 0;
        _removeSubscriber(streamId, s, provider);
        _releaseAllowance(streamId, s, provider);
        if (locked != 0) slashed = _registry.slash(provider, locked, address(this));
    }

    /// @dev The seat of `voter` on the open dispute; reverts if there is none.
    function _seatOf(uint256 disputeId, address voter) private view returns (uint256) {
        _requireOpenDispute(disputeId);
        (bool found, uint256 seat) = _findSeat(disputeId, _disputes[disputeId].seats, voter);
        if (!found) revert StreamMarketNotCouncilMember(disputeId, voter);
        return seat;
    }

    function _findSeat(uint256 disputeId, uint256 seats, address voter) private view returns (bool, uint256) {
        address[16] storage council = _councils[disputeId];
        for (uint256 i; i < seats; ++i) {
            if (council[i] == voter) return (true, i);
        }
        return (false, 0);
    }

    function _requireOpenDispute(uint256 disputeId) private view {
        DisputeState state = _stateOf(disputeId);
        if (state == DisputeState.None) revert StreamMarketUnknownDispute(disputeId);
        if (state != DisputeState.Open) revert StreamMarketDisputeNotOpen(disputeId, state);
    }

    function _stateOf(uint256 disputeId) private view returns (DisputeState) {
        DisputeStore storage d = _disputes[disputeId];
        if (d.provider == address(0)) return DisputeState.None;
        if (d.dropped) return DisputeState.NoCouncil;
        if (d.seats == 0) return DisputeState.Seating;
        VerdictRound.State state = _rounds.get(disputeId).state;
        if (state == VerdictRound.State.Accepted) return DisputeState.Valid;
        if (state == VerdictRound.State.Rejected) return DisputeState.Invalid;
        return DisputeState.Open; // a seated round is never cancelled
    }

    // ================================================================== internal: helpers

    /// @dev Removes `provider` from the stream's subscriber list, keeping the others' order;
    ///      returns the new subscriber count.
    function _removeSubscriber(uint256 streamId, StreamStore storage s, address provider)
        private
        returns (uint8 count)
    {
        address[32] storage list = _subscribers[streamId];
        count = s.subscriberCount - 1;
        uint256 i;
        while (list[i] != provider) {
            ++i;
        }
        for (; i < count; ++i) {
            list[i] = list[i + 1];
        }
        delete list[count];
        s.subscriberCount = count;
    }

    /// @dev Returns what is left of `provider`'s allowance (its pending decrease included) to the
    ///      stream's unreserved deposit, when its subscription ends.
    function _releaseAllowance(uint256 streamId, StreamStore storage s, address provider) private {
        AllowanceStore storage a = _allowances[streamId][provider];
        uint256 left = a.left;
        if (left == 0 && a.decreaseAt == 0) return;
        delete _allowances[streamId][provider];
        uint256 deposit = s.deposit + left;
        s.deposit = uint96(deposit);
        emit AllowanceReleased(streamId, provider, left, deposit);
    }

    /// @dev The stream, checked to exist, not to be Closed and to be the caller's.
    function _openClientStream(uint256 streamId) private view returns (StreamStore storage s) {
        s = _streams[streamId];
        _requireNotClosed(s, streamId);
        if (msg.sender != s.client) revert StreamMarketNotClient(streamId, msg.sender);
    }

    /// @dev Reverts unless `provider` is subscribed to the stream (Active or Unsubscribing).
    function _requireSubscribed(uint256 streamId, address provider) private view {
        SubscriptionStatus status = _subs[streamId][provider].status;
        if (status != SubscriptionStatus.Active && status != SubscriptionStatus.Unsubscribing) {
            revert StreamMarketNotSubscribed(streamId, provider, status);
        }
    }

    /// @dev The stream, checked to exist, to be `expected` and to be the caller's.
    function _clientStream(uint256 streamId, StreamStatus expected) private view returns (StreamStore storage s) {
        s = _streams[streamId];
        StreamStatus status = s.status;
        if (status == StreamStatus.None) revert StreamMarketUnknownStream(streamId);
        if (msg.sender != s.client) revert StreamMarketNotClient(streamId, msg.sender);
        if (status != expected) revert StreamMarketUnexpectedStatus(streamId, status, expected);
    }

    function _requireNotClosed(StreamStore storage s, uint256 streamId) private view {
        StreamStatus status = s.status;
        if (status == StreamStatus.None) revert StreamMarketUnknownStream(streamId);
        if (status == StreamStatus.Closed) revert StreamMarketStreamClosed(streamId);
    }

    function _revertStatus(uint256 streamId, StreamStatus status, StreamStatus expected) private pure {
        if (status == StreamStatus.None) revert StreamMarketUnknownStream(streamId);
        revert StreamMarketUnexpectedStatus(streamId, status, expected);
    }

    function _voucherDigest(uint256 streamId, address provider, uint256 cumulativeAmount)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, streamId, provider, cumulativeAmount)));
    }

    function _receiptDigest(Receipt calldata r) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    RECEIPT_TYPEHASH, r.streamId, r.requestId, r.responseHash, r.promptTokens, r.completionTokens
                )
            )
        );
    }
}
